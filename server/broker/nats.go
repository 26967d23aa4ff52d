package broker

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// NATS is the broker of several processes that share one NATS server:
// each key is a subject, and every process whose subscribers follow a
// key receives what any process publishes under it. It uses core NATS
// (at most once, nothing stored): what must survive is in the stores,
// and an Event's Seq lets a subscriber drop what it has seen.
//
// Subjects are Prefix, a dot and the key in unpadded base64url, so any
// key is one subject token, dots, stars and all, and two keys never
// share a subject. An event's payload is its Seq in 8 bytes, big endian,
// then its Data.
//
// Ordering: NATS keeps the order of one connection's publishes, so a
// key's events, published one at a time, arrive in order at every
// subscriber. Each subscription has its own goroutine in nats.go, which
// calls deliver for one event at a time.
type NATS struct {
	nc     *nats.Conn
	prefix string
}

// DefaultNATSPrefix is the subject prefix when NewNATS is given none.
const DefaultNATSPrefix = "wsplay.broker"

// NewNATS returns a broker over nc, whose subjects start with prefix
// (DefaultNATSPrefix when empty); every process of one deployment must
// use the same. The caller owns nc: closing it ends every subscription.
func NewNATS(nc *nats.Conn, prefix string) *NATS {
	if prefix == "" {
		prefix = DefaultNATSPrefix
	}
	return &NATS{nc: nc, prefix: prefix}
}

// Subject returns the NATS subject that carries key.
func (b *NATS) Subject(key string) string {
	return b.prefix + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// Publish implements [Broker]. It fails when the connection is closed or
// ctx has ended; while nats.go reconnects it buffers the event.
func (b *NATS) Publish(ctx context.Context, key string, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	payload := make([]byte, 8+len(ev.Data))
	binary.BigEndian.PutUint64(payload, ev.Seq)
	copy(payload[8:], ev.Data)
	if err := b.nc.Publish(b.Subject(key), payload); err != nil {
		return fmt.Errorf("broker: publish: %w", err)
	}
	return nil
}

// Subscribe implements [Broker]. It returns once the NATS server knows of
// the subscription (a round trip), so that what is published from then
// on reaches it.
func (b *NATS) Subscribe(key string, deliver func(Event)) (func(), error) {
	var stopped atomic.Bool
	sub, err := b.nc.Subscribe(b.Subject(key), func(m *nats.Msg) {
		if stopped.Load() || len(m.Data) < 8 {
			return // unsubscribed meanwhile, or not an event of ours
		}
		// nats.go gives each message a buffer of its own: Data may be
		// shared by whoever receives it, and is never changed.
		deliver(Event{Seq: binary.BigEndian.Uint64(m.Data), Data: m.Data[8:]})
	})
	if err != nil {
		return nil, fmt.Errorf("broker: subscribe: %w", err)
	}
	// Without limits on what waits for deliver: a subscriber's deliver
	// returns at once (the contract), and a limit would drop events
	// silently.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("broker: subscribe: %w", err)
	}
	if err := b.nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("broker: subscribe: %w", err)
	}
	unsubscribe := func() {
		// The flag, set before this returns, stops what nats.go still
		// holds for the subscription; Unsubscribe stops the rest.
		if stopped.Swap(true) {
			return
		}
		// It fails only when the connection is closed, which has ended
		// the subscription anyway; the flag stops delivery either way.
		_ = sub.Unsubscribe()
	}
	return unsubscribe, nil
}
