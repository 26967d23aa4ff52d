// Package broker carries events published under a key to whoever
// subscribed to that key. It is the seam between deciding what to send
// and reaching the connections that should get it: a chat room's hub
// publishes the room's messages under the room's key, the notification
// service publishes each user's changes under the user's key.
//
// [Memory] reaches the subscribers of one process. [NATS] carries the
// events between several server processes that share one NATS server (a
// subject per key), behind the same interface, as centrifuge does with
// its Broker. So an [Event] is bytes
// and a sequence number, never anything that only makes sense in one
// process.
//
// Package brokertest checks any implementation against the contract
// below: run brokertest.Run in the implementation's tests.
package broker

import "context"

// Event is one message published under a key.
type Event struct {
	// Seq is the event's position among its key's events, when the
	// publisher numbers them (a chat message's seq, a notification
	// change's version), so that a subscriber can drop what a transport
	// delivers twice; 0 when it does not.
	Seq uint64
	// Data is the encoded message, as the subscribers' clients receive it.
	// Neither the publisher nor a subscriber may change it once published.
	Data []byte
}

// Broker carries events from publishers to subscribers by key.
//
// The contract, which brokertest.Run checks:
//
//   - Publish hands ev to every subscription of key that exists when it
//     is called, and to no other. It never waits for a subscriber to
//     process an event.
//   - A subscription receives its key's events in the order they were
//     published, when they are published one at a time (each key has
//     one publisher at a time: a room's hub, or the notification service
//     under its lock), and receives events published before Subscribe
//     returned only if the implementation says so; [Memory] does not.
//   - While a key's events are published one at a time, a subscription's
//     deliver is called for one event at a time. deliver must return at
//     once: it hands the event on (a connection's queue takes it, or the
//     connection is dropped as too slow).
//   - Keys are opaque strings, compared exactly: "a.b", "a.*" and "A.b"
//     are three keys, whatever the transport makes of dots and stars.
//   - unsubscribe may be called more than once, and from inside deliver.
//     Once it has returned, no event published after that is delivered.
type Broker interface {
	// Publish sends ev to key's subscribers. It fails only when the
	// broker cannot take the event (its connection is gone, ctx ended);
	// a key with no subscribers is not an error.
	Publish(ctx context.Context, key string, ev Event) error
	// Subscribe calls deliver with each event published under key from
	// now on, until unsubscribe is called.
	Subscribe(key string, deliver func(Event)) (unsubscribe func(), err error)
}
