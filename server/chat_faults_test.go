//go:build unix

package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// dialRaw connects a gorilla client over a TCP connection the test keeps a
// handle on, with a small receive buffer when rcvbuf > 0.
func dialGorillaTCP(t *testing.T, ts *testServer, path string, rcvbuf int) (*gorilla.Conn, *net.TCPConn) {
	t.Helper()
	var tcp *net.TCPConn
	d := gorilla.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				if rcvbuf == 0 {
					return nil
				}
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
				})
				if err != nil {
					return err
				}
				return serr
			}}
			c, err := nd.DialContext(ctx, network, addr)
			if err == nil {
				tcp = c.(*net.TCPConn)
			}
			return c, err
		},
		HandshakeTimeout: 5 * time.Second,
	}
	ws, _, err := d.Dial(ts.wsURL(path), http.Header{})
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	return ws, tcp
}

// FAULTS row 17: a client that never reads while the room gets thousands
// of messages is closed alone; the healthy members get every message, in
// order.
func TestFault17_SlowReaderIsDroppedOthersGetEverything(t *testing.T) {
	// Not parallel: it loads the machine, and it measures rates.
	cfg := testConfig(t)
	cfg.Gate.Conn.WriteWait = time.Second
	ts := startServer(t, cfg)

	publisher := ts.joinChat(t, "general", "publisher")
	publisher.joined()
	healthy := []*chatConn{ts.joinChat(t, "general", "h1"), ts.joinChat(t, "general", "h2")}
	for _, h := range healthy {
		h.joined()
	}
	slow, _ := dialGorillaTCP(t, ts, chatQuery("general", "slow"), 4096)
	_ = slow // it never reads
	var rooms struct{ Rooms []shared.RoomInfo }
	eventually(t, "four members", func() bool {
		getJSON(t, ts.URL+"/api/rooms", &rooms)
		return len(rooms.Rooms) == 1 && rooms.Rooms[0].Connections == 4
	})

	const n = 3000
	body := strings.Repeat("x", 4000)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := 1; i <= n; i++ {
			frame := `{"type":"text","content":"` + strconv.Itoa(i) + " " + body + `"}`
			if err := publisher.conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
		}
	}()
	for _, h := range append(healthy, publisher) {
		var want uint64 = 1
		for want <= n {
			m := h.next()
			if m.Type != shared.TypeText {
				continue // the slow one's leave and user list
			}
			require.Equal(t, want, m.Seq, "in order, none missing")
			require.True(t, strings.HasPrefix(m.Content, strconv.FormatUint(want, 10)+" "))
			want++
		}
	}
	eventually(t, "the slow client to be dropped", func() bool {
		getJSON(t, ts.URL+"/api/rooms", &rooms)
		return rooms.Rooms[0].Connections == 3 && rooms.Rooms[0].Users == 3
	})
}

// FAULTS row 18: a TCP reset yields exactly one leave, and the server goes
// on.
func TestFault18_ResetYieldsOneLeave(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	bob := ts.joinChat(t, "general", "bob")
	bob.joined()

	ws, tcp := dialGorillaTCP(t, ts, chatQuery("general", "ada"), 0)
	assert.Equal(t, "ada", bob.expect(shared.TypeJoin).Username)
	// A message half written, then a reset (linger 0 sends RST).
	require.NoError(t, ws.WriteMessage(gorilla.TextMessage, []byte(`{"type":"typing"}`)))
	_, err := tcp.Write([]byte{0x81, 0x85, 1, 2, 3}) // a frame header, no payload
	require.NoError(t, err)
	require.NoError(t, tcp.SetLinger(0))
	require.NoError(t, tcp.Close())

	for {
		m := bob.next()
		if m.Type == shared.TypeLeave {
			assert.Equal(t, "ada", m.Username)
			break
		}
		require.Contains(t, []shared.Type{shared.TypeTyping}, m.Type)
	}
	bob.say("marker")
	assert.Equal(t, "marker", bob.expect(shared.TypeText).Content, "no second leave")
	eventually(t, "ada's session to end", func() bool { return ts.Gate().Len() == 1 })
}

// FAULTS row 14: one client floods at hundreds of messages a second. It
// gets rate_limited errors with a retry hint — never a bare text frame —
// then close 1008; the canary in the same room keeps talking.
func TestFault14_FloodIsRateLimitedThenClosed(t *testing.T) {
	// Not parallel: it loads the machine, and it measures rates.
	cfg := testConfig(t)
	cfg.setMessageRate(10, 20) // the defaults
	ts := startServer(t, cfg)
	canary := ts.joinChat(t, "general", "canary")
	canary.joined()
	flood := ts.joinChat(t, "general", "flood")
	flood.joined()

	stop := make(chan struct{})
	flooded := make(chan int)
	go func() { // 500 a second until closed or 3 s pass
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		n := 0
		defer func() { flooded <- n }()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if flood.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"flood"}`)) != nil {
				return
			}
			n++
		}
	}()

	var texts, limited int
	for {
		m := flood.nextOrEnd()
		if m == nil {
			break
		}
		switch m.Type {
		case shared.TypeText:
			texts++
		case shared.TypeError:
			require.Equal(t, shared.CodeRateLimited, m.Code)
			assert.Contains(t, m.Content, "retry in")
			limited++
		}
	}
	close(stop)
	sent := <-flooded
	assert.Equal(t, websocket.StatusPolicyViolation, flood.closeStatus())
	assert.GreaterOrEqual(t, limited, 1)
	assert.LessOrEqual(t, limited, 3, "errors are themselves limited to one a second")
	// The burst and the refill got through, and no more.
	assert.GreaterOrEqual(t, texts, 20)
	assert.Less(t, texts, 60, "of %d sent", sent)

	canary.say("canary ok")
	for m := canary.skipTo(shared.TypeText); m.Content != "canary ok"; m = canary.skipTo(shared.TypeText) {
		assert.Equal(t, "flood", m.Content) // what got through before the close
	}
}
