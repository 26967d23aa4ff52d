package broker

import (
	"context"
	"slices"
	"sync"
)

// Memory is the broker of a single process. Publish calls every
// subscriber's deliver on the publisher's goroutine, before it returns,
// without holding a lock, so a subscriber may unsubscribe or subscribe
// from inside deliver. The zero value is ready to use.
type Memory struct {
	mu sync.Mutex // guards subs; never held while delivering
	// subs holds each key's subscriptions. A slice is never changed once
	// stored: Subscribe and unsubscribe store a new one, so Publish can
	// deliver from the slice it read without copying it or holding mu.
	subs map[string][]*subscription
}

type subscription struct{ deliver func(Event) }

// NewMemory returns an empty in-process broker.
func NewMemory() *Memory { return &Memory{} }

// Publish implements [Broker]: it delivers ev to key's subscribers before
// it returns. It never fails.
func (b *Memory) Publish(_ context.Context, key string, ev Event) error {
	b.mu.Lock()
	subs := b.subs[key]
	b.mu.Unlock()
	for _, s := range subs {
		s.deliver(ev)
	}
	return nil
}

// Subscribe implements [Broker]. It never fails.
func (b *Memory) Subscribe(key string, deliver func(Event)) (func(), error) {
	s := &subscription{deliver: deliver}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[string][]*subscription{}
	}
	b.subs[key] = append(slices.Clip(b.subs[key]), s) // a new array: clipped, append must copy
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(key, s) }) }, nil
}

func (b *Memory) unsubscribe(key string, s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := b.subs[key]
	i := slices.Index(subs, s)
	switch {
	case i < 0:
	case len(subs) == 1:
		delete(b.subs, key)
	default:
		b.subs[key] = slices.Delete(slices.Clone(subs), i, i+1)
	}
}

// Subscribers returns how many subscriptions key has, for tests and
// diagnostics.
func (b *Memory) Subscribers(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[key])
}
