//go:build !js

package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// socketRecorder is a socketOwner that records what its socket tells it,
// one line per call. Its url counts the dials: "?dial=1", "?dial=2", ...
type socketRecorder struct {
	base string

	mu     sync.Mutex
	dials  int
	events []string
}

func (r *socketRecorder) record(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *socketRecorder) url() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dials++
	return fmt.Sprintf("%s?dial=%d", r.base, r.dials)
}
func (r *socketRecorder) opened() string      { r.record("opened"); return "" }
func (r *socketRecorder) message(data []byte) { r.record("message %s", data) }
func (r *socketRecorder) ended(info CloseInfo, reconnect bool) {
	r.record("ended %d reconnect=%t", info.Code, reconnect)
}
func (r *socketRecorder) showState(s ConnState, detail string) {
	if detail == "" {
		r.record("%v", s)
	} else {
		r.record("%v: %s", s, detail)
	}
}

func (r *socketRecorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// count returns how many events start with prefix.
func (r *socketRecorder) count(prefix string) int {
	n := 0
	for _, e := range r.log() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (r *socketRecorder) has(prefix string) bool { return r.count(prefix) > 0 }

// testEndpoint is a WebSocket endpoint the test drives by hand: it hands
// each accepted connection to the test, and can hold handshakes until the
// test lets them through.
type testEndpoint struct {
	hold    chan struct{}        // when not nil, handshakes wait until it is closed
	arrived chan string          // the query of each handshake, as it arrives
	conns   chan *websocket.Conn // each accepted connection
	gone    chan struct{}        // a connection has ended, seen from the server
	got     chan string          // when not nil, each text message the client sent
	pong    bool                 // answer the heartbeat's pings, as the real endpoints do
	ctx     context.Context      // ends every handler when the test ends
	wg      sync.WaitGroup
}

func (e *testEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.wg.Add(1)
	defer e.wg.Done()
	e.arrived <- r.URL.RawQuery
	if e.hold != nil {
		select {
		case <-e.hold:
		case <-e.ctx.Done():
			return
		}
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	e.conns <- c
	for {
		_, data, err := c.Read(e.ctx)
		if err != nil {
			e.gone <- struct{}{}
			return
		}
		if e.got != nil {
			e.got <- string(data)
		}
		if id, ok := shared.ParsePing(data); ok && e.pong {
			c.Write(e.ctx, websocket.MessageText, shared.EncodePong(id))
		}
	}
}

// startSocket returns a socket on h's loop for a new testEndpoint, with a
// short backoff. The test stops the socket; the endpoint is shut when the
// test ends.
func startSocket(t *testing.T, h *chatHarness, hold bool) (*socket, *socketRecorder, *testEndpoint) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e := &testEndpoint{arrived: make(chan string, 8), conns: make(chan *websocket.Conn, 8), gone: make(chan struct{}, 8), ctx: ctx}
	if hold {
		e.hold = make(chan struct{})
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		e.wg.Wait()
	})
	u, err := SocketURL(srv.URL, "/ws/test")
	require.NoError(t, err)
	rec := &socketRecorder{base: u}
	s := new(socket)
	*s = newSocket(h.loop, rec, 4)
	s.Backoff = Backoff{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond, rand: func() float64 { return 0.999 }}
	return s, rec, e
}

// next receives from ch, or fails the test after a generous deadline.
func next[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestSocketReconnectsAndAsksTheURLEachTime(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	h.onLoop(s.connect)
	assert.Equal(t, "dial=1", next(t, "the first handshake", e.arrived))
	server := next(t, "the first connection", e.conns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, server.Write(ctx, websocket.MessageText, []byte("hi")))
	eventually(t, "the message", func() bool { return rec.has("message hi") })

	// 1012: the server restarts; the socket waits its backoff and dials
	// again, at the address its owner gives now.
	require.NoError(t, server.Close(websocket.StatusServiceRestart, "test"))
	assert.Equal(t, "dial=2", next(t, "the second handshake", e.arrived))
	next(t, "the second connection", e.conns)
	eventually(t, "connected again", func() bool { return rec.count("connected") == 2 })
	h.onLoop(func() { s.stop("stopped") })
	next(t, "the first connection's end", e.gone)
	next(t, "the second connection's end", e.gone)

	assert.Equal(t, []string{
		"connecting", "opened", "connected", "message hi",
		"disconnected: connection lost (1012 service restart: the server is restarting); reconnecting in 10ms (attempt 1)",
		"ended 1012 reconnect=true",
		"connecting", "opened", "connected",
		"disconnected: stopped",
	}, rec.log())
}

func TestSocketStopsWhenTheCloseCodeSaysRetryingCannotHelp(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	h.onLoop(s.connect)
	server := next(t, "the connection", e.conns)
	require.NoError(t, server.Close(websocket.StatusUnsupportedData, "test"))
	eventually(t, "the end", func() bool { return rec.has("ended") })
	h.onLoop(func() {
		assert.Nil(t, s.retry, "no reconnect scheduled")
		assert.False(t, s.active())
		assert.Equal(t, Disconnected, s.State())
		assert.ErrorIs(t, s.send([]byte("x")), errNotConnected)
	})
	assert.Equal(t, []string{
		"connecting", "opened", "connected",
		"disconnected: closed: 1003 unsupported data: this endpoint does not accept that frame type; not reconnecting",
		"ended 1003 reconnect=false",
	}, rec.log())
}

// A dial that completes after stop belongs to an older generation: the
// socket closes what it returns, and the owner never hears of it.
func TestSocketClosesADialThatStopAbandoned(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, true)
	h.onLoop(s.connect)
	next(t, "the handshake", e.arrived)
	h.onLoop(func() { s.stop("stopped") })
	close(e.hold) // the server accepts only now
	next(t, "the connection", e.conns)
	next(t, "the client to close it", e.gone)
	h.onLoop(func() { assert.Nil(t, s.conn) })
	assert.Equal(t, []string{"connecting", "disconnected: stopped"}, rec.log())
}

// A message that the reader posted before stop, but that the loop reaches
// only after it, belongs to an older generation and is dropped.
func TestSocketDropsAMessageReadBeforeStop(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	h.onLoop(s.connect)
	server := next(t, "the connection", e.conns)
	eventually(t, "connected", func() bool { return rec.has("connected") })
	h.onLoop(func() {
		// The loop is busy here, so the reader can only queue the message.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, server.Write(ctx, websocket.MessageText, []byte("late")))
		queued := func() bool {
			h.loop.mu.Lock()
			defer h.loop.mu.Unlock()
			return len(h.loop.queue) > 0
		}
		for deadline := time.Now().Add(30 * time.Second); !queued() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		assert.True(t, queued(), "the reader queued the message")
		s.stop("stopped")
	})
	next(t, "the connection's end", e.gone)
	h.onLoop(func() {}) // the queued message has been handled by now
	assert.Equal(t, []string{"connecting", "opened", "connected", "disconnected: stopped"}, rec.log())
}

// stop during the wait before a reconnect cancels the timer, so nothing
// is left running and no dial follows.
func TestSocketStopCancelsAPendingReconnect(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	h.onLoop(func() {
		s.Backoff = Backoff{Min: time.Hour, Max: time.Hour, rand: func() float64 { return 0.5 }}
		s.connect()
	})
	server := next(t, "the connection", e.conns)
	require.NoError(t, server.Close(websocket.StatusGoingAway, "test"))
	eventually(t, "the wait", func() bool { return rec.has("disconnected: connection lost (1001") })
	h.onLoop(func() {
		timer := s.retry
		if !assert.NotNil(t, timer) {
			return
		}
		assert.True(t, s.active(), "waiting counts as trying")
		s.stop("stopped")
		assert.False(t, timer.Stop(), "stop has stopped the timer already")
		assert.Nil(t, s.retry)
		assert.False(t, s.active())
	})
	assert.Equal(t, []string{
		"connecting", "opened", "connected",
		"disconnected: connection lost (1001 going away: the server is shutting down or restarting); reconnecting in 30m0s (attempt 1)",
		"ended 1001 reconnect=true",
		"disconnected: stopped",
	}, rec.log())
}
