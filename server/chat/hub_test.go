package chat

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/broker"
	"wsplay/server/wsconn/wsconntest"
	"wsplay/shared"
)

// Unit tests of the hub with fake clients: a client without a connection
// whose queue the test reads. FAULTS row 16.

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fakeClient(queue int) *wsconntest.Conn { return wsconntest.NewConn(queue) }

func newTestHub(t *testing.T, cfg *Config) *hub {
	t.Helper()
	return newHub("general", cfg, discardLogger(), NewMemoryStore(), broker.NewMemory(), nil, nil)
}

func TestHubEdgeCases(t *testing.T) {
	cfg := Config{}.withDefaults()
	synctest.Test(t, func(t *testing.T) {
		h := newTestHub(t, &cfg)
		go h.run()

		adaConn, slowConn := fakeClient(64), fakeClient(3)
		ada := &member{c: adaConn, user: "ada"}
		slow := &member{c: slowConn, user: "slow"}
		require.True(t, h.add(joinRequest{m: ada}))
		require.True(t, h.add(joinRequest{m: slow}))
		synctest.Wait()
		assert.EqualValues(t, 2, h.users.Load())

		// slow never reads: its own join, its history and its user list fill
		// its queue of 3, and the next broadcast finds it full and closes it
		// instead of waiting. ada, who reads, is not held up.
		assert.Len(t, slowConn.Queue, 3)
		for i := range 3 {
			h.send(inbound{m: ada, msg: shared.Message{Type: shared.TypeText, Content: fmt.Sprint(i)}})
		}
		synctest.Wait()
		select {
		case <-slowConn.Done():
		default:
			t.Fatal("a client with a full queue was not closed")
		}
		code, _ := slowConn.CloseStatus()
		assert.Equal(t, websocket.ClosePolicyViolation, code)
		// ada: her join, history, list, slow's join, and the three texts.
		assert.Len(t, adaConn.Queue, 7)

		// Leaving after being dropped, twice, and an unknown member: no
		// panic, and the counts stay right.
		h.remove(slow)
		h.remove(slow)
		h.remove(&member{c: fakeClient(1), user: "ghost"})
		synctest.Wait()
		assert.EqualValues(t, 1, h.users.Load())
		assert.EqualValues(t, 1, h.conns.Load())
		assert.Equal(t, 1, h.localCount(), "slow is no longer delivered to")
		fanout := h.fanout.(*broker.Memory)
		assert.Equal(t, 1, fanout.Subscribers(Key("general")), "the hub is the room's one subscriber")

		// After stop, callers return at once instead of blocking, and
		// the hub's subscription is gone.
		h.shutdown()
		assert.Zero(t, fanout.Subscribers(Key("general")))
		done := make(chan struct{})
		go func() {
			assert.False(t, h.add(joinRequest{m: &member{c: fakeClient(1), user: "late"}}))
			h.remove(ada)
			h.send(inbound{m: ada, msg: shared.Message{Type: shared.TypeText, Content: "late"}})
			close(done)
		}()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("a caller blocked on a stopped hub")
		}
	})
}
