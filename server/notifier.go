package main

import (
	"sync"

	"github.com/gorilla/websocket"
)

// notifier carries changes to a user's notifications from whoever made
// them (an HTTP POST, a poke, a mark read) to every connection of that
// user. The notification service publishes each change after it is
// stored, in the order of the user's versions; connections subscribe.
//
// publish never blocks on a subscriber: deliver must return at once
// (notifyConn queues the frame, or drops a connection that is too slow).
// A subscriber may be called from any goroutine, but never concurrently
// for the same user with changes out of order, because the service
// publishes one change at a time.
//
// The in-memory implementation reaches this process's connections.
// Several processes would use one that publishes on a subject per user
// (NATS "notify.<user>", say) and delivers what arrives from it, behind
// the same methods: the event carries the encoded frame and its version,
// so a connection de-duplicates whatever the transport delivers twice, and
// the stored notifications remain the source of truth for a reconnect.
type notifier interface {
	publish(user string, ev notifyEvent)
	// subscribe adds sub for user's changes until unsubscribe is called;
	// unsubscribe may be called more than once.
	subscribe(user string, sub notifySubscriber) (unsubscribe func())
}

// notifySubscriber receives a user's changes.
type notifySubscriber interface {
	deliver(ev notifyEvent)
}

// notifyEvent is one stored change, ready to send.
type notifyEvent struct {
	version uint64 // the change's position among the user's changes
	seq     uint64 // the notification's seq, for a new notification; else 0
	data    []byte // the encoded shared.NotifyMessage
	// frame is data prepared once for every connection (a transport
	// between processes would send data and prepare it on arrival).
	frame *websocket.PreparedMessage
}

// memoryNotifier is the notifier of a single process.
type memoryNotifier struct {
	mu   sync.Mutex // guards subs; never held while delivering
	subs map[string]map[notifySubscriber]struct{}
}

func newMemoryNotifier() *memoryNotifier {
	return &memoryNotifier{subs: map[string]map[notifySubscriber]struct{}{}}
}

func (n *memoryNotifier) publish(user string, ev notifyEvent) {
	n.mu.Lock()
	subs := make([]notifySubscriber, 0, len(n.subs[user]))
	for s := range n.subs[user] {
		subs = append(subs, s)
	}
	n.mu.Unlock()
	for _, s := range subs {
		s.deliver(ev)
	}
}

func (n *memoryNotifier) subscribe(user string, sub notifySubscriber) func() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.subs[user] == nil {
		n.subs[user] = map[notifySubscriber]struct{}{}
	}
	n.subs[user][sub] = struct{}{}
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.subs[user], sub)
		if len(n.subs[user]) == 0 {
			delete(n.subs, user)
		}
	}
}

// subscribers returns how many connections user has; for tests.
func (n *memoryNotifier) subscribers(user string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs[user])
}
