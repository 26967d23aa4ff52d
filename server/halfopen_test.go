package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// stallProxy is a loopback TCP proxy that can go silent: after stall it
// keeps every connection open but forwards nothing, either way, and
// passes on no hang-up. Both ends then see a peer that is there but never
// answers: a half-open connection, as when a NAT forgets it or a laptop
// sleeps.
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled atomic.Bool
	wg      sync.WaitGroup

	mu    sync.Mutex // guards conns
	conns []net.Conn
}

// startStallProxy forwards a loopback port to target until the test ends.
func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stallProxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

// stall stops forwarding, for good.
func (p *stallProxy) stall() { p.stalled.Store(true) }

func (p *stallProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(up, down) })
		p.wg.Go(func() { p.pipe(down, up) })
	}
}

// pipe copies src to dst until src ends. Once stalled it reads and drops
// everything, and an end of src is not passed on.
func (p *stallProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if !p.stalled.Load() {
				dst.Close()
			}
			return
		}
	}
}

// close ends every connection and waits for the proxy's goroutines.
func (p *stallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// dialVia connects a coder/websocket client to path through p and keeps
// reading (which answers the server's pings) until the connection ends.
func dialVia(t *testing.T, p *stallProxy, path string) (*websocket.Conn, <-chan []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+p.addr()+path, nil)
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
	cfg.PingInterval, cfg.PongWait = 500*time.Millisecond, 3*time.Second
	ts := startServer(t, cfg)
	canary := ts.joinChat(t, "halfopen", "canary")
	canary.joined()

	p := startStallProxy(t, strings.TrimPrefix(ts.URL, "http://"))
	ghost, _ := dialVia(t, p, chatQuery("halfopen", "ghost"))
	dialVia(t, p, notifyQuery("ghost"))
	assert.Equal(t, "ghost", canary.skipTo(shared.TypeJoin).Username)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, ghost.Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"via the proxy"}`)))
	assert.Equal(t, "via the proxy", canary.skipTo(shared.TypeText).Content)
	eventually(t, "three sessions", func() bool { return ts.Gate().Len() == 3 })

	stalled := time.Now()
	p.stall()
	left := canary.skipTo(shared.TypeLeave)
	took := time.Since(stalled)
	assert.Equal(t, "ghost", left.Username)
	// The bound is the read deadline (the last pong came at most a ping
	// interval before the stall) plus the close grace the server gives a
	// connection it drops, plus room for a busy machine.
	limit := cfg.PingInterval + cfg.PongWait + cfg.CloseGrace + 5*time.Second
	assert.Less(t, took, limit, "the half-open peer was removed after %v", took)
	t.Logf("half-open peer removed %v after its traffic stopped (ping %v, pong wait %v, close grace %v)",
		took.Round(time.Millisecond), cfg.PingInterval, cfg.PongWait, cfg.CloseGrace)

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
