package notify

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/broker"
	"wsplay/server/wsconn"
	"wsplay/server/wsconn/wsconntest"
	"wsplay/shared"
)

// testNotifyConn is a notifyConn over a client with no socket: what it
// queues stays in the client's send queue for the test to read.
func testNotifyConn(queue int) (*notifyConn, *wsconntest.Conn) {
	c := wsconntest.NewConn(queue)
	return &notifyConn{c: c, log: slog.New(slog.DiscardHandler), user: "ada", syncing: true, maxPending: 8}, c
}

func testEvent(version, seq uint64) broker.Event {
	m := shared.NotifyMessage{Type: shared.NotifyRead, All: true}
	if seq != 0 {
		m = shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &shared.Notification{Seq: seq}}
	}
	data, err := shared.EncodeNotify(m)
	if err != nil {
		panic(err)
	}
	return broker.Event{Seq: version, Data: data}
}

// queued empties c's queue and returns how many frames it held.
func queued(c *wsconntest.Conn) int {
	n := 0
	for {
		select {
		case <-c.Queue:
			n++
		default:
			return n
		}
	}
}

// The events a notification connection is delivered are told apart
// without decoding them: a notification's encoding starts with its type.
func TestNotificationPrefix(t *testing.T) {
	t.Parallel()
	assert.True(t, isNotification(testEvent(1, 1)))
	assert.False(t, isNotification(testEvent(2, 0)))
}

// A change stored while a tab connects reaches the tab twice, in its
// snapshot and live; the tab sends it once.
func TestNotifyConnSendsWhatTheSnapshotLacksOnce(t *testing.T) {
	t.Parallel()
	nc, c := testNotifyConn(16)
	evs := []broker.Event{testEvent(1, 1), testEvent(2, 0), testEvent(3, 2), testEvent(4, 3), testEvent(5, 0)}

	// Subscribed; the snapshot is being read: changes wait.
	for _, ev := range evs[1:4] {
		nc.deliver(ev)
	}
	assert.Zero(t, queued(c), "nothing goes out before the snapshot")
	// The snapshot held every change up to version 3: only 4 goes out.
	nc.goLive(3)
	assert.Equal(t, 1, queued(c))
	assert.Equal(t, uint64(4), nc.version)

	// Live: a change delivered twice (a transport that redelivers), or
	// one the connection has, goes out once.
	nc.deliver(evs[4])
	nc.deliver(evs[4])
	nc.deliver(evs[2])
	assert.Equal(t, 1, queued(c))
	assert.Equal(t, uint64(5), nc.version)
}

// Too many changes waiting for a snapshot that does not finish: the
// connection is closed as too slow, never waited for.
func TestNotifyConnTooManyPendingCloses(t *testing.T) {
	t.Parallel()
	nc, c := testNotifyConn(1)
	for v := range uint64(nc.maxPending + 1) {
		nc.deliver(testEvent(v+1, v+1))
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("the connection was not closed")
	}
	_, reason := c.CloseStatus()
	require.Equal(t, shared.ReasonTooSlow, reason)
	nc.goLive(0) // returns: the client is closed
}

// A fault frame, which the notification protocol's decoder does not
// know, is refused with forbidden while faults are off, and otherwise
// acknowledged, handed to the connection and, for no_pong, leaves the
// pings unanswered; an unusable one is a bad_request.
func TestNotifyHandleFaults(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		s, err := New(Config{Faults: on}, Deps{})
		require.NoError(t, err)
		t.Cleanup(func() { s.Shutdown(context.Background()) })
		nc, c := testNotifyConn(16)
		err = s.handle(nc, []byte(`{"type":"fault","content":"no_pong"}`))
		if !on {
			var perr *shared.Error
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, shared.CodeForbidden, perr.Code)
			assert.Empty(t, c.Faults())
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, `{"type":"fault","content":"no_pong"}`, string((<-c.Queue).Payload()))
		assert.Equal(t, []wsconn.Fault{{Name: shared.FaultNoPong}}, c.Faults())
		require.NoError(t, s.handle(nc, shared.EncodePing("1")))
		assert.Zero(t, queued(c), "no pong")

		err = s.handle(nc, []byte(`{"type":"fault","content":"drop=0"}`))
		var perr *shared.Error
		require.ErrorAs(t, err, &perr)
		assert.Equal(t, shared.CodeBadRequest, perr.Code)
		assert.Len(t, c.Faults(), 1)
	}
}
