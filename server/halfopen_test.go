package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// dialVia connects a coder/websocket client to path through p and keeps
// reading (which answers the server's pings) until the connection ends.
func dialVia(t *testing.T, p *servertest.StallProxy, path string) (*websocket.Conn, <-chan []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+p.Addr()+path, nil)
	require.NoError(t, err)
	msgs := make(chan []byte, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			select {
			case msgs <- data:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		c.CloseNow()
		<-done
	})
	return c, msgs
}

// FAULTS row 19: a peer whose traffic silently stops both ways. The
// server's pings go unanswered, so the read deadline (PongWait after the
// last pong) ends the connection; the chat member is removed and the
// others see it leave; a notification tab is removed too. Healthy members,
// which answer their pings, stay and keep talking.
func TestFault19_HalfOpenPeerIsDroppedAndTheRoomSeesItLeave(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// The canary must answer in time on a busy machine, next to other
	// tests: the pong wait is generous.
	cfg.Gate.Conn.PingInterval, cfg.Gate.Conn.PongWait = 500*time.Millisecond, 3*time.Second
	ts := startServer(t, cfg)
	canary := ts.joinChat(t, "halfopen", "canary")
	canary.joined()

	p := servertest.StartStallProxy(t, strings.TrimPrefix(ts.URL, "http://"))
	ghost, _ := dialVia(t, p, chatQuery("halfopen", "ghost"))
	dialVia(t, p, notifyQuery("ghost"))
	assert.Equal(t, "ghost", canary.skipTo(shared.TypeJoin).Username)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, ghost.Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"via the proxy"}`)))
	assert.Equal(t, "via the proxy", canary.skipTo(shared.TypeText).Content)
	eventually(t, "three sessions", func() bool { return ts.Gate().Len() == 3 })

	stalled := time.Now()
	p.Stall()
	left := canary.skipTo(shared.TypeLeave)
	took := time.Since(stalled)
	assert.Equal(t, "ghost", left.Username)
	// The bound is the read deadline (the last pong came at most a ping
	// interval before the stall) plus the close grace the server gives a
	// connection it drops, plus room for a busy machine.
	limit := cfg.Gate.Conn.PingInterval + cfg.Gate.Conn.PongWait + cfg.Gate.Conn.CloseGrace + 5*time.Second
	assert.Less(t, took, limit, "the half-open peer was removed after %v", took)
	t.Logf("half-open peer removed %v after its traffic stopped (ping %v, pong wait %v, close grace %v)",
		took.Round(time.Millisecond), cfg.Gate.Conn.PingInterval, cfg.Gate.Conn.PongWait, cfg.Gate.Conn.CloseGrace)

	eventually(t, "only the canary's session left", func() bool { return ts.Gate().Len() == 1 })
	rooms := ts.Chat().Rooms()
	require.Len(t, rooms, 1)
	assert.EqualValues(t, 1, rooms[0].Users)
	canary.say("still here")
	assert.Equal(t, "still here", canary.skipTo(shared.TypeText).Content)

	// The client has heard nothing: its reader is still waiting. A ping of
	// its own is what notices (wasmclient/app does that; see its row 19
	// test).
	pingCtx, pingCancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer pingCancel()
	assert.ErrorIs(t, ghost.Ping(pingCtx), context.DeadlineExceeded)
}
