// Package brokertest checks an implementation of [broker.Broker] against
// the interface's contract, in the way testing/fstest.TestFS checks an
// fs.FS:
//
//	func TestMyBroker(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) broker.Broker { return newMyBroker(t) })
//	}
//
// Each check runs as a subtest with a broker of its own, made by the
// function given, which should release what it made with t.Cleanup. The
// checks wait for asynchronous delivery (up to a few seconds) but assert
// order, exactness and the absence of strays, so an implementation that
// delivers through a network passes as well as an in-process one.
package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"wsplay/server/broker"
)

// wait bounds every wait for a delivery. Only a failing check waits that
// long.
const wait = 10 * time.Second

// settle is how long a check watches for an event that must not come.
const settle = 200 * time.Millisecond

// Run checks the broker that newBroker makes against the contract of
// [broker.Broker].
func Run(t *testing.T, newBroker func(t *testing.T) broker.Broker) {
	checks := []struct {
		name string
		f    func(*testing.T, broker.Broker)
	}{
		{"DeliversInOrder", deliversInOrder},
		{"CarriesSeqAndDataExactly", carriesSeqAndData},
		{"EverySubscriberGetsEverything", everySubscriber},
		{"KeysAreSeparate", keysAreSeparate},
		{"KeysAreOpaque", keysAreOpaque},
		{"NoReplayBeforeSubscribe", noReplay},
		{"UnsubscribeStopsDelivery", unsubscribeStops},
		{"UnsubscribeInsideDeliver", unsubscribeInsideDeliver},
		{"PublishWithoutSubscribers", publishWithoutSubscribers},
		{"OrderWhileSubscribersChurn", orderWhileChurning},
		{"ConcurrentKeys", concurrentKeys},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.f(t, newBroker(t))
		})
	}
}

// Recorder is a subscriber that keeps what it is delivered. It is exported
// for implementations' own tests.
type Recorder struct {
	mu     sync.Mutex // guards events
	events []broker.Event
	more   chan struct{} // a token after each delivery
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{more: make(chan struct{}, 1)} }

// Deliver is the recorder's subscription callback.
func (r *Recorder) Deliver(ev broker.Event) {
	r.mu.Lock()
	r.events = append(r.events, broker.Event{Seq: ev.Seq, Data: bytes.Clone(ev.Data)})
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// Events returns a copy of what has been delivered so far.
func (r *Recorder) Events() []broker.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// WaitFor waits until n events have been delivered and returns them, or
// fails t after a few seconds.
func (r *Recorder) WaitFor(t testing.TB, n int) []broker.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		if got := r.Events(); len(got) >= n {
			return got
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("waited %v for %d events, got %d: %v", wait, n, len(r.Events()), seqs(r.Events()))
		}
	}
}

func seqs(evs []broker.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func subscribe(t *testing.T, b broker.Broker, key string) (*Recorder, func()) {
	t.Helper()
	r := NewRecorder()
	unsub, err := b.Subscribe(key, r.Deliver)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", key, err)
	}
	t.Cleanup(unsub)
	return r, unsub
}

func publish(t *testing.T, b broker.Broker, key string, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Publish(ctx, key, event(key, seq)); err != nil {
		t.Fatalf("Publish(%q, %d): %v", key, seq, err)
	}
}

// event is the event numbered seq under key: its data names both, so that
// a stray from another key is seen for what it is.
func event(key string, seq uint64) broker.Event {
	return broker.Event{Seq: seq, Data: fmt.Appendf(nil, `{"key":%q,"seq":%d}`, key, seq)}
}

// expect checks that got is exactly events 1..n of key, in order.
func expect(t *testing.T, key string, got []broker.Event, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("key %q: got %d events %v, want %d", key, len(got), seqs(got), n)
	}
	for i, ev := range got {
		want := event(key, uint64(i+1))
		if ev.Seq != want.Seq || !bytes.Equal(ev.Data, want.Data) {
			t.Fatalf("key %q: event %d is seq %d %q, want seq %d %q", key, i, ev.Seq, ev.Data, want.Seq, want.Data)
		}
	}
}

// quiet checks that r receives nothing more than the n it has.
func quiet(t *testing.T, r *Recorder, n int, what string) {
	t.Helper()
	time.Sleep(settle)
	if got := r.Events(); len(got) != n {
		t.Fatalf("%s: got %d events, want %d: %v", what, len(got), n, seqs(got))
	}
}

func deliversInOrder(t *testing.T, b broker.Broker) {
	r, _ := subscribe(t, b, "room")
	const n = 500
	for i := range n {
		publish(t, b, "room", uint64(i+1))
	}
	expect(t, "room", r.WaitFor(t, n), n)
	quiet(t, r, n, "no duplicates")
}

func carriesSeqAndData(t *testing.T, b broker.Broker) {
	r, _ := subscribe(t, b, "k")
	binary := []byte{0, 1, 2, 0xff, '\n', '"', 0}
	big := bytes.Repeat([]byte("x"), 256<<10)
	sent := []broker.Event{
		{Seq: 0, Data: []byte(`{"type":"typing"}`)},
		{Seq: 1<<64 - 1, Data: binary},
		{Seq: 7, Data: big},
		{Seq: 8, Data: nil},
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, ev := range sent {
		if err := b.Publish(ctx, "k", ev); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	got := r.WaitFor(t, len(sent))
	for i := range sent {
		if got[i].Seq != sent[i].Seq || !bytes.Equal(got[i].Data, sent[i].Data) {
			t.Errorf("event %d: got seq %d and %d bytes, want seq %d and %d bytes", i, got[i].Seq, len(got[i].Data), sent[i].Seq, len(sent[i].Data))
		}
	}
}

func everySubscriber(t *testing.T, b broker.Broker) {
	var rs []*Recorder
	for range 20 {
		r, _ := subscribe(t, b, "room")
		rs = append(rs, r)
	}
	const n = 50
	for i := range n {
		publish(t, b, "room", uint64(i+1))
	}
	for _, r := range rs {
		expect(t, "room", r.WaitFor(t, n), n)
	}
}

func keysAreSeparate(t *testing.T, b broker.Broker) {
	ada, _ := subscribe(t, b, "ada")
	bob, _ := subscribe(t, b, "bob")
	publish(t, b, "ada", 1)
	publish(t, b, "bob", 1)
	publish(t, b, "ada", 2)
	publish(t, b, "cy", 1) // nobody listens
	expect(t, "ada", ada.WaitFor(t, 2), 2)
	expect(t, "bob", bob.WaitFor(t, 1), 1)
	quiet(t, ada, 2, "ada")
	quiet(t, bob, 1, "bob")
}

// Keys made of the characters room and user names may hold, and the
// wildcards of subject-based transports, reach their own subscribers only.
func keysAreOpaque(t *testing.T, b broker.Broker) {
	keys := []string{"a.b", "a.*", "a.>", "a", "A.b", "a..b", "room:gen-eral_1", "*", ">", "a b"}
	rs := map[string]*Recorder{}
	for _, k := range keys {
		rs[k], _ = subscribe(t, b, k)
	}
	for _, k := range keys {
		publish(t, b, k, 1)
	}
	for _, k := range keys {
		expect(t, k, rs[k].WaitFor(t, 1), 1)
	}
	for _, k := range keys {
		quiet(t, rs[k], 1, fmt.Sprintf("key %q", k))
	}
}

func noReplay(t *testing.T, b broker.Broker) {
	publish(t, b, "room", 1)
	publish(t, b, "room", 2)
	r, _ := subscribe(t, b, "room")
	publish(t, b, "room", 3)
	got := r.WaitFor(t, 1)
	if got[0].Seq != 3 {
		t.Fatalf("a new subscriber first got seq %d, want 3 (what was published before it subscribed is not replayed)", got[0].Seq)
	}
	quiet(t, r, 1, "after the first")
}

func unsubscribeStops(t *testing.T, b broker.Broker) {
	gone, unsub := subscribe(t, b, "room")
	stays, _ := subscribe(t, b, "room")
	publish(t, b, "room", 1)
	gone.WaitFor(t, 1)
	unsub()
	unsub() // harmless
	publish(t, b, "room", 2)
	expect(t, "room", stays.WaitFor(t, 2), 2)
	quiet(t, gone, 1, "an unsubscribed subscriber")
}

func unsubscribeInsideDeliver(t *testing.T, b broker.Broker) {
	var (
		mu    sync.Mutex
		unsub func()
		calls int
	)
	done := make(chan struct{})
	u, err := b.Subscribe("room", func(broker.Event) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			unsub()
			close(done)
		}
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	mu.Lock()
	unsub = u
	mu.Unlock()
	t.Cleanup(u)
	publish(t, b, "room", 1)
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("unsubscribe from inside deliver did not return")
	}
	publish(t, b, "room", 2)
	time.Sleep(settle)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Fatalf("deliver called %d times, want 1", calls)
	}
}

func publishWithoutSubscribers(t *testing.T, b broker.Broker) {
	for i := range 10 {
		publish(t, b, "nobody", uint64(i+1))
	}
	_, unsub := subscribe(t, b, "nobody")
	unsub()
	publish(t, b, "nobody", 11)
}

// One publisher, subscribers coming and going meanwhile: a steady
// subscriber gets everything, and each churned one a run of consecutive
// events, in order. Run with -race.
func orderWhileChurning(t *testing.T, b broker.Broker) {
	steady, _ := subscribe(t, b, "room")
	const n = 1000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			publish(t, b, "room", uint64(i+1))
		}
	})
	churned := make([]*Recorder, 30)
	for i := range churned {
		churned[i] = NewRecorder()
		wg.Go(func() {
			unsub, err := b.Subscribe("room", churned[i].Deliver)
			if err != nil {
				t.Errorf("Subscribe: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
			unsub()
		})
	}
	wg.Wait()
	expect(t, "room", steady.WaitFor(t, n), n)
	time.Sleep(settle)
	for _, r := range churned {
		got := r.Events()
		for i := 1; i < len(got); i++ {
			if got[i].Seq != got[i-1].Seq+1 {
				t.Fatalf("a churned subscriber got seq %d after %d: a gap or a reordering", got[i].Seq, got[i-1].Seq)
			}
		}
	}
}

// Publishers of different keys at once, each key in order.
func concurrentKeys(t *testing.T, b broker.Broker) {
	const keys, n = 8, 200
	rs := make([]*Recorder, keys)
	for k := range keys {
		rs[k], _ = subscribe(t, b, fmt.Sprintf("key-%d", k))
	}
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			for i := range n {
				publish(t, b, fmt.Sprintf("key-%d", k), uint64(i+1))
			}
		})
	}
	wg.Wait()
	for k := range keys {
		expect(t, fmt.Sprintf("key-%d", k), rs[k].WaitFor(t, n), n)
	}
}
