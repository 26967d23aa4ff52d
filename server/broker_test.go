package main

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder keeps the events it is delivered.
type recorder struct {
	mu  sync.Mutex
	got []int
}

func (r *recorder) deliver(ev int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ev)
}

func (r *recorder) events() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.got...)
}

func TestMemoryBrokerReachesOnlyTheKeysSubscribers(t *testing.T) {
	t.Parallel()
	b := newMemoryBroker[int]()
	tab1, tab2, other := &recorder{}, &recorder{}, &recorder{}
	unsub1 := b.subscribe("ada", tab1.deliver)
	b.subscribe("ada", tab2.deliver)
	b.subscribe("bob", other.deliver)

	b.publish("ada", 1)
	unsub1()
	unsub1() // harmless
	b.publish("ada", 2)
	b.publish("cy", 1) // nobody listens: dropped

	assert.Equal(t, []int{1}, tab1.events())
	assert.Equal(t, []int{1, 2}, tab2.events())
	assert.Empty(t, other.events())
	assert.Equal(t, 1, b.subscribers("ada"))
	assert.Zero(t, b.subscribers("cy"))
}

// One publisher per key, subscribers coming and going meanwhile: each
// subscriber sees a run of consecutive events, in order. Run with -race:
// publish reads the subscription list without a lock while it is
// replaced.
func TestMemoryBrokerKeepsOrderWhileSubscribersChurn(t *testing.T) {
	t.Parallel()
	b := newMemoryBroker[int]()
	steady := &recorder{}
	b.subscribe("room", steady.deliver)

	const events = 2000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range events {
			b.publish("room", i)
		}
	})
	churned := make([]*recorder, 50)
	for i := range churned {
		r := &recorder{}
		churned[i] = r
		wg.Go(func() {
			unsub := b.subscribe("room", r.deliver)
			unsub()
			unsub()
		})
	}
	wg.Wait()

	want := make([]int, events)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, steady.events())
	for _, r := range churned {
		got := r.events()
		for i := 1; i < len(got); i++ {
			assert.Equal(t, got[i-1]+1, got[i], "a gap or reordering")
		}
	}
	assert.Equal(t, 1, b.subscribers("room"))
}
