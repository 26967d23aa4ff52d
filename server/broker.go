package main

import (
	"slices"
	"sync"
)

// broker carries events published under a key to whoever subscribed to
// that key. It is the seam between deciding what to send and reaching the
// connections that should get it: a chat room's hub publishes its
// broadcasts under the room's name (roomEvent), the notification service
// publishes each user's changes under the user's id (notifyEvent).
//
// publish hands the event to every subscriber of the key and never blocks
// on one: deliver must return at once (a client's queue takes the frame,
// or the client is dropped as too slow). Each key has one publisher at a
// time — a room's hub from its one goroutine, the notification service
// one change at a time — so a key's subscribers see its events in the
// order they were published.
//
// memoryBroker reaches the subscribers in this process. Several server
// processes would share one that publishes on a subject per key (NATS
// "room.general" or "notify.ada", say) and delivers what arrives to this
// process's subscribers, behind the same two methods, as centrifuge does
// with its Broker. The events are built for that: they carry the encoded
// message, and a sequence or version by which a subscriber can drop what a
// transport delivers twice.
type broker[E any] interface {
	publish(key string, ev E)
	// subscribe adds deliver for key's events until unsubscribe is called;
	// unsubscribe may be called more than once. An event published while
	// unsubscribe runs may still be delivered once after it returns: a
	// closed client ignores what it is given.
	subscribe(key string, deliver func(E)) (unsubscribe func())
}

// memoryBroker is the broker of a single process.
type memoryBroker[E any] struct {
	mu sync.Mutex // guards subs; never held while delivering
	// subs holds each key's subscriptions. A slice is never changed once
	// stored: subscribe and unsubscribe store a new one, so publish can
	// deliver from the slice it read without copying it or holding mu.
	subs map[string][]*subscription[E]
}

type subscription[E any] struct{ deliver func(E) }

func newMemoryBroker[E any]() *memoryBroker[E] {
	return &memoryBroker[E]{subs: map[string][]*subscription[E]{}}
}

func (b *memoryBroker[E]) publish(key string, ev E) {
	b.mu.Lock()
	subs := b.subs[key]
	b.mu.Unlock()
	for _, s := range subs {
		s.deliver(ev)
	}
}

func (b *memoryBroker[E]) subscribe(key string, deliver func(E)) func() {
	s := &subscription[E]{deliver: deliver}
	b.mu.Lock()
	b.subs[key] = append(slices.Clip(b.subs[key]), s) // a new array: clipped, append must copy
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(key, s) }) }
}

func (b *memoryBroker[E]) unsubscribe(key string, s *subscription[E]) {
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

// subscribers returns how many subscriptions key has; for tests.
func (b *memoryBroker[E]) subscribers(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[key])
}
