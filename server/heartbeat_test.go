package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// Every JSON endpoint answers the heartbeat's ping with a pong that
// carries its id, to the pinging connection only; a ping whose id breaks
// the rule gets a bad_request error and the connection goes on.
func TestHeartbeatPingGetsPongOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, time.Second))

	t.Run("chat", func(t *testing.T) {
		ada := ts.joinChat(t, "beat", "ada")
		ada.joined()
		bob := ts.joinChat(t, "beat", "bob")
		bob.joined()
		assert.Equal(t, "bob", ada.expect(shared.TypeJoin).Username)
		ada.sendRaw(websocket.MessageText, shared.EncodePing("c1"))
		pong := ada.expect(shared.TypePong)
		assert.Equal(t, "c1", pong.ID)
		ada.send(shared.Message{Type: shared.TypePing}) // no id: still answered
		assert.Empty(t, ada.expect(shared.TypePong).ID)
		ada.sendRaw(websocket.MessageText, []byte(`{"type":"ping","id":"not an id!"}`))
		e := ada.expect(shared.TypeError)
		assert.Equal(t, shared.CodeBadRequest, e.Code)
		assert.Contains(t, e.Content, "ping")
		ada.say("still here")
		assert.Equal(t, "still here", ada.expect(shared.TypeText).Content)
		// bob saw none of it but the text: a ping is not broadcast, nor stored.
		assert.Equal(t, "still here", bob.expect(shared.TypeText).Content)
		bob.quiet(100 * time.Millisecond)
		late := ts.joinChat(t, "beat", "cy")
		history, _ := late.joined()
		require.Len(t, history.Messages, 1)
		assert.Equal(t, shared.TypeText, history.Messages[0].Type)
	})

	t.Run("notifications", func(t *testing.T) {
		tab := ts.openTab(t, "ada")
		tab.synced()
		tab.sendRaw(websocket.MessageText, shared.EncodePing("n1"))
		assert.Equal(t, "n1", tab.expect(shared.NotifyPong).ID)
		tab.send(shared.NotifyMessage{Type: shared.NotifyPing, ID: strings.Repeat("x", shared.MaxClientIDLen+1)})
		e := tab.expect(shared.NotifyError)
		assert.Equal(t, shared.CodeBadRequest, e.Code)
		tab.send(shared.NotifyMessage{Type: shared.NotifyPing, ID: "n2"})
		assert.Equal(t, "n2", tab.expect(shared.NotifyPong).ID)
	})

	t.Run("dashboard", func(t *testing.T) {
		c := ts.dial(t, "/ws/dashboard", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		readSnapshot(t, ctx, c)                                                   // the first, with history
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello?"))) // other text: ignored
		require.NoError(t, c.Write(ctx, websocket.MessageText, shared.EncodePing("d1")))
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping","id":"<b>"}`)))
		// Snapshots may come between; the answers come in order.
		var got []shared.Heartbeat
		for len(got) < 2 {
			_, data, err := c.Read(ctx)
			require.NoError(t, err)
			var h shared.Heartbeat
			require.NoError(t, json.Unmarshal(data, &h))
			if h.Type != "" {
				got = append(got, h)
			}
		}
		assert.Equal(t, shared.Heartbeat{Type: shared.HeartbeatPong, ID: "d1"}, got[0])
		assert.Equal(t, shared.HeartbeatError, got[1].Type)
		assert.Equal(t, shared.CodeBadRequest, got[1].Code)
		readSnapshot(t, ctx, c) // and the snapshots go on
	})
}

// The heartbeat is activity: a client that answers none of the server's
// WebSocket pings (as a browser that is not the one answering, or a
// proxy that eats control frames) but sends the heartbeat stays
// connected past the server's PongWait on each endpoint; the same client
// without it is dropped.
func TestHeartbeatCountsAsActivity(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.PingInterval, cfg.Gate.Conn.PongWait = 200*time.Millisecond, time.Second
	cfg.Dashboard.Interval = time.Minute // so that the viewer hears only pongs
	ts := startServer(t, cfg)
	paths := map[string]string{
		"chat":          chatQuery("active", "ada"),
		"notifications": notifyQuery("ada"),
		"dashboard":     "/ws/dashboard",
	}
	var wg sync.WaitGroup
	for name, path := range paths {
		for _, beat := range []bool{true, false} {
			wg.Go(func() {
				lasted, pongs := deafClient(t, ts, path, beat, 3*cfg.Gate.Conn.PongWait)
				if beat {
					assert.Equal(t, 3*cfg.Gate.Conn.PongWait, lasted, "%s with the heartbeat was dropped", name)
					assert.Positive(t, pongs, "%s answered no ping", name)
				} else {
					assert.Less(t, lasted, 3*cfg.Gate.Conn.PongWait, "%s without the heartbeat was kept", name)
				}
			})
		}
	}
	wg.Wait()
}

// deafClient connects to path with a gorilla client that answers none of
// the server's WebSocket pings and, if beat, sends the heartbeat every
// 200 ms. It returns how long the connection lasted, up to limit, and
// how many pongs came.
func deafClient(t *testing.T, ts *testServer, path string, beat bool, limit time.Duration) (lasted time.Duration, pongs int) {
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(ts.wsURL(path), nil)
	if !assert.NoError(t, err) {
		return 0, 0
	}
	defer ws.Close()
	ws.SetPingHandler(func(string) error { return nil }) // deaf: no pong
	start := time.Now()
	ended := make(chan struct{})
	var n int
	go func() {
		defer close(ended)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if _, ok := shared.ParsePong(data); ok {
				n++
			}
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(limit)
	for {
		select {
		case <-ended:
			return time.Since(start), n
		case <-deadline:
			ws.Close()
			<-ended
			return limit, n
		case <-tick.C:
			if beat {
				ws.SetWriteDeadline(time.Now().Add(time.Second))
				ws.WriteMessage(gorilla.TextMessage, shared.EncodePing(""))
			}
		}
	}
}

// A well-behaved client pings every few seconds; one that floods pings is
// bounded like any flood: rate_limited, then 1008. (Here on the
// dashboard, which had no limit before it answered pings.)
func TestHeartbeatFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	cfg := dashConfig(t, time.Second)
	cfg.setMessageRate(5, 5)
	ts := startServer(t, cfg)
	c := ts.dial(t, "/ws/dashboard", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	readSnapshot(t, ctx, c)
	go func() {
		for i := 0; i < 2000; i++ {
			if c.Write(ctx, websocket.MessageText, shared.EncodePing("")) != nil {
				return
			}
		}
	}()
	var pongs int
	var limited bool
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)
			break
		}
		var h shared.Heartbeat
		require.NoError(t, json.Unmarshal(data, &h))
		switch {
		case h.Type == shared.HeartbeatPong:
			pongs++
		case h.Type == shared.HeartbeatError:
			assert.Equal(t, shared.CodeRateLimited, h.Code)
			limited = true
		}
	}
	assert.True(t, limited, "told it was over the rate")
	assert.LessOrEqual(t, pongs, 20, "pongs beyond the burst and the rate")
	assert.Positive(t, pongs)
}
