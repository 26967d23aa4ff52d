package chat

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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

// In a room whose names take far more than a frame, the user list a
// member gets on joining comes in pages of at most shared.MaxFrame bytes,
// all but the last marked More, that together are the room's users, each
// once; and a run of joins longer than a frame goes to the members as
// several join messages, each within the bound, that together name
// everyone who joined.
func TestHubUserListAndRunsFitAFrame(t *testing.T) {
	cfg := Config{}.withDefaults()
	synctest.Test(t, func(t *testing.T) {
		h := newTestHub(t, &cfg)
		go h.run()
		defer h.shutdown()
		name := func(i int) string { return fmt.Sprintf("%s%04d", strings.Repeat("u", shared.MaxNameLen-4), i) }
		first := fakeClient(4096)
		require.True(t, h.add(joinRequest{m: &member{c: first, user: name(0)}}))
		synctest.Wait()
		drain(t, first)

		// A crowd arrives: well over a frame of names (35 bytes each).
		const n = 1500
		var want []string
		for i := range n {
			want = append(want, name(i))
			if i > 0 {
				require.True(t, h.add(joinRequest{m: &member{c: fakeClient(64), user: name(i)}}))
			}
		}
		synctest.Wait()
		time.Sleep(cfg.PresenceBatch) // the runs go out
		synctest.Wait()
		var joined []string
		runs := 0
		for _, m := range drain(t, first) {
			require.Equal(t, shared.TypeJoin, m.Type)
			assert.False(t, m.More)
			joined = append(joined, m.Users...)
			runs++
		}
		assert.True(t, slices.Equal(want[1:], joined), "every join, once, in order: %d of %d", len(joined), n-1)
		assert.Greater(t, runs, 1, "the run went as several messages")

		late := fakeClient(64)
		require.True(t, h.add(joinRequest{m: &member{c: late, user: "late"}}))
		synctest.Wait()
		time.Sleep(cfg.PresenceBatch) // a big room's list comes with the next run
		synctest.Wait()
		var users []string
		pages := 0
		for _, m := range drain(t, late) {
			if m.Type != shared.TypeUserList {
				continue
			}
			pages++
			users = append(users, m.Users...)
			if !m.More {
				break
			}
		}
		assert.Greater(t, pages, 1, "the list came in pages")
		assert.True(t, slices.Equal(sorted(append(want, "late")), sorted(users)), "the pages together are the list: %d names of %d", len(users), n+1)
	})
}

// drain returns what c's queue holds, decoded, and checks that each
// frame fits shared.MaxFrame.
func drain(t *testing.T, c *wsconntest.Conn) []shared.Message {
	t.Helper()
	var out []shared.Message
	for {
		select {
		case f := <-c.Queue:
			assert.LessOrEqual(t, len(f.Payload()), shared.MaxFrame, "a frame's bytes")
			m, err := shared.Decode(f.Payload())
			require.NoError(t, err)
			out = append(out, m)
		default:
			return out
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
