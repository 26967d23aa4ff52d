package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// testNotifyConn is a notifyConn over a client with no socket: what it
// queues stays in the client's send queue for the test to read.
func testNotifyConn(queue int) *notifyConn {
	c := &client{send: make(chan outgoing, queue), done: make(chan struct{})}
	return &notifyConn{c: c, user: "ada", syncing: true, maxPending: 8}
}

func testEvent(version, seq uint64) notifyEvent {
	ev := notifyEvent{version: version, seq: seq}
	ev.data, ev.frame = prepareNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Seq: seq})
	return ev
}

// queued returns the versions of the events whose frames nc's client has
// queued, in order.
func queued(nc *notifyConn, events ...notifyEvent) []uint64 {
	var out []uint64
	for {
		select {
		case o := <-nc.c.send:
			for _, ev := range events {
				if ev.frame == o.m {
					out = append(out, ev.version)
				}
			}
		default:
			return out
		}
	}
}

// A change stored while a tab connects reaches the tab twice, in its
// snapshot and live; the tab sends it once.
func TestNotifyConnSendsWhatTheSnapshotLacksOnce(t *testing.T) {
	t.Parallel()
	nc := testNotifyConn(16)
	evs := []notifyEvent{testEvent(1, 1), testEvent(2, 0), testEvent(3, 2), testEvent(4, 3), testEvent(5, 0)}

	// Subscribed; the snapshot is being read: changes wait.
	for _, ev := range evs[1:4] {
		nc.deliver(ev)
	}
	assert.Empty(t, queued(nc, evs...), "nothing goes out before the snapshot")
	// The snapshot held every change up to version 3.
	nc.goLive(3)
	assert.Equal(t, []uint64{4}, queued(nc, evs...))

	// Live: a change delivered twice (a transport that redelivers), or
	// one the connection has, goes out once.
	nc.deliver(evs[4])
	nc.deliver(evs[4])
	nc.deliver(evs[2])
	assert.Equal(t, []uint64{5}, queued(nc, evs...))
}

// Too many changes waiting for a snapshot that does not finish: the
// connection is closed as too slow, never waited for.
func TestNotifyConnTooManyPendingCloses(t *testing.T) {
	t.Parallel()
	nc := testNotifyConn(1)
	for v := range uint64(nc.maxPending + 1) {
		nc.deliver(testEvent(v+1, v+1))
	}
	select {
	case <-nc.c.done:
	default:
		t.Fatal("the connection was not closed")
	}
	require.Equal(t, shared.ReasonTooSlow, nc.c.closeReason)
	nc.goLive(0) // returns: the client is closed
}
