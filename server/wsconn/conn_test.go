package wsconn_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigZeroValueTakesTheDefaults(t *testing.T) {
	t.Parallel()
	got := wsconn.Config{}.WithDefaults()
	assert.Equal(t, wsconn.Config{
		ReadLimit: 64 << 10, PongWait: time.Minute, PingInterval: 54 * time.Second,
		WriteWait: 10 * time.Second, CloseGrace: time.Second, SendQueue: 256, SendQueueBytes: 1 << 20,
		BatchDelay: 200 * time.Millisecond,
	}, got)
	// A ping interval that could not be answered in time is replaced.
	got = wsconn.Config{PongWait: time.Second, PingInterval: 2 * time.Second}.WithDefaults()
	assert.Equal(t, 900*time.Millisecond, got.PingInterval)
	got = wsconn.Config{PongWait: time.Second, PingInterval: 100 * time.Millisecond}.WithDefaults()
	assert.Equal(t, 100*time.Millisecond, got.PingInterval, "a valid one is kept")
}

// serve returns a server whose one endpoint upgrades and runs each
// connection with cfg, calling handle for its messages (echo when nil),
// and the channel each connection is sent on once it has ended.
func serve(t *testing.T, cfg wsconn.Config, handle func(*wsconn.Conn) wsconn.Handler) (*httptest.Server, *metrics.Endpoint, <-chan *wsconn.Conn) {
	t.Helper()
	m := metrics.New()
	stats := m.Endpoint("test")
	ended := make(chan *wsconn.Conn, 16)
	u := &gorilla.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := wsconn.Upgrade(u, w, r, true, stats)
		if err != nil {
			return
		}
		var c *wsconn.Conn
		c = wsconn.New(ws, cfg, wsconn.Options{Stats: stats, OnEnd: func() { ended <- c }})
		h := func(typ int, data []byte) error {
			pm, err := wsconn.NewFrame(typ, data)
			if err != nil {
				return err
			}
			c.Enqueue(pm)
			return nil
		}
		if handle != nil {
			h = handle(c)
		}
		c.Run(h)
	}))
	t.Cleanup(srv.Close)
	return srv, stats, ended
}

func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func closeStatus(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		require.NoError(t, ctx.Err())
		return -1, err.Error()
	}
}

func ended(t *testing.T, ch <-chan *wsconn.Conn) *wsconn.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end")
		return nil
	}
}

// With a zero Config, a connection echoes text as text and binary as
// binary, in order, and counts what it did.
func TestZeroConfigEchoes(t *testing.T) {
	t.Parallel()
	srv, stats, done := serve(t, wsconn.Config{}, nil)
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, m := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\x01"}, {websocket.MessageText, "ünï"}} {
		require.NoError(t, c.Write(ctx, m.typ, []byte(m.data)))
		typ, data, err := c.Read(ctx)
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, m.typ, typ)
		assert.Equal(t, m.data, string(data))
	}
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	conn := ended(t, done)
	code, _ := conn.CloseStatus()
	assert.Zero(t, code, "the peer closed: the server sends no close of its own")
	e := stats.Read()
	assert.Equal(t, uint64(3), e.MsgsIn)
	assert.Equal(t, uint64(3), e.MsgsOut)
	assert.Positive(t, e.BytesIn)
	assert.Positive(t, e.BytesOut)
	assert.Positive(t, e.FanoutSum)
}

func TestCloseCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    wsconn.Config
		send   func(ctx context.Context, c *websocket.Conn) error
		code   websocket.StatusCode
		reason string
	}{
		{"over the read limit", wsconn.Config{ReadLimit: 10},
			func(ctx context.Context, c *websocket.Conn) error {
				return c.Write(ctx, websocket.MessageBinary, make([]byte, 11))
			}, websocket.StatusMessageTooBig, ""},
		{"text that is not UTF-8", wsconn.Config{},
			func(ctx context.Context, c *websocket.Conn) error {
				return c.Write(ctx, websocket.MessageText, []byte{0xff, 0xfe})
			}, websocket.StatusInvalidFramePayloadData, shared.ReasonInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, done := serve(t, tt.cfg, nil)
			c := dial(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, tt.send(ctx, c))
			code, reason := closeStatus(t, c)
			assert.Equal(t, tt.code, code)
			if tt.reason != "" {
				assert.Equal(t, tt.reason, reason)
			}
			ended(t, done)
		})
	}
}

// A handler that closes the connection: the messages queued before the
// close go out first, then the close frame with its code and reason.
func TestCloseFlushesWhatWasQueued(t *testing.T) {
	t.Parallel()
	srv, _, done := serve(t, wsconn.Config{}, func(c *wsconn.Conn) wsconn.Handler {
		return func(int, []byte) error {
			for _, s := range []string{"one", "two"} {
				pm := wsconn.TextFrame([]byte(s))
				c.Enqueue(pm)
			}
			c.Close(gorilla.ClosePolicyViolation, "enough")
			return wsconn.ErrClosedByServer
		}
	})
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("go")))
	for _, want := range []string{"one", "two"} {
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(data))
	}
	code, reason := closeStatus(t, c)
	assert.Equal(t, websocket.StatusPolicyViolation, code)
	assert.Equal(t, "enough", reason)
	conn := ended(t, done)
	gotCode, gotReason := conn.CloseStatus()
	assert.Equal(t, gorilla.ClosePolicyViolation, gotCode)
	assert.Equal(t, "enough", gotReason)
}

// A full send queue closes the slow client with 1008 "too slow" instead
// of blocking the producer, and counts it once.
func TestFullQueueClosesTheClient(t *testing.T) {
	t.Parallel()
	// The first writes go straight to the socket's buffers; once those are
	// full the writer waits, the queue fills, and the client is closed as
	// too slow. A write stuck that long ends at WriteWait.
	srv, stats, done := serve(t, wsconn.Config{SendQueue: 2, WriteWait: time.Second}, func(c *wsconn.Conn) wsconn.Handler {
		return func(int, []byte) error {
			pm := wsconn.TextFrame(make([]byte, 1<<10))
			for range 10_000 { // far more than the socket buffers hold
				if !c.Enqueue(pm) {
					break
				}
			}
			return nil
		}
	})
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("flood me")))
	conn := ended(t, done) // the client never reads
	code, reason := conn.CloseStatus()
	assert.Equal(t, gorilla.ClosePolicyViolation, code)
	assert.Equal(t, shared.ReasonTooSlow, reason)
	assert.Equal(t, uint64(1), stats.Read().Slow)
}

// The rate limit: a burst passes, the excess is refused with one
// rate_limited warning, and a flood that goes on is closed with 1008.
func TestLimiter(t *testing.T) {
	t.Parallel()
	var warnings []*shared.Error
	srv, _, done := serve(t, wsconn.Config{}, func(c *wsconn.Conn) wsconn.Handler {
		lim := wsconn.NewLimiter(1, 5)
		return func(typ int, data []byte) error {
			ok, err := lim.Admit(c, func(e *shared.Error) { warnings = append(warnings, e) })
			if ok {
				pm, _ := wsconn.NewFrame(typ, data)
				c.Enqueue(pm)
			}
			return err
		}
	})
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("x")))
		_, _, err := c.Read(ctx)
		require.NoError(t, err, "within the burst")
	}
	go func() {
		for range 1000 {
			if c.Write(ctx, websocket.MessageText, []byte("x")) != nil {
				return
			}
		}
	}()
	code, reason := closeStatus(t, c)
	assert.Equal(t, websocket.StatusPolicyViolation, code)
	assert.Equal(t, shared.ReasonRateLimit, reason)
	ended(t, done)
	require.NotEmpty(t, warnings)
	assert.Equal(t, shared.CodeRateLimited, warnings[0].Code)
	assert.Contains(t, warnings[0].Detail, "at most 1 a second (bursts of 5)")
}

func TestNewLimiterZeroTakesTheDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "10/s burst 20", wsconn.NewLimiter(0, 0).String())
}

// The queue is bounded in bytes too: few but large messages for a client
// that does not read close it as too slow, long before their count would.
func TestByteBudgetClosesTheClient(t *testing.T) {
	t.Parallel()
	cfg := wsconn.Config{SendQueue: 10000, SendQueueBytes: 256 << 10, WriteWait: time.Second}
	var queued atomic.Int64
	srv, stats, done := serve(t, cfg, func(c *wsconn.Conn) wsconn.Handler {
		return func(int, []byte) error {
			f := wsconn.TextFrame(make([]byte, 32<<10))
			for range 1000 { // 32 MB if nothing stopped it
				if !c.Enqueue(f) {
					break
				}
				queued.Add(1)
			}
			return nil
		}
	})
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("flood me")))
	conn := ended(t, done) // the client never reads
	code, reason := conn.CloseStatus()
	assert.Equal(t, gorilla.ClosePolicyViolation, code)
	assert.Equal(t, shared.ReasonTooSlow, reason)
	// What the socket's buffers took, then 256 KiB: far from 1,000.
	assert.Less(t, queued.Load(), int64(1000), "closed after its queue's bytes")
	assert.LessOrEqual(t, stats.Read().MsgsOut, uint64(queued.Load()))
}

// EnqueueWait waits for room in bytes, so a producer of one connection's
// backlog far larger than the budget delivers all of it, in order, to a
// client that reads.
func TestEnqueueWaitWaitsForByteRoom(t *testing.T) {
	t.Parallel()
	const n = 200
	cfg := wsconn.Config{SendQueueBytes: 64 << 10}
	srv, _, _ := serve(t, cfg, func(c *wsconn.Conn) wsconn.Handler {
		return func(int, []byte) error {
			go func() {
				for i := range n {
					b := make([]byte, 16<<10)
					b[0] = byte(i)
					f, _ := wsconn.NewFrame(gorilla.BinaryMessage, b)
					if !c.EnqueueWait(f) {
						return
					}
				}
			}()
			return nil
		}
	})
	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("send")))
	for i := range n {
		_, data, err := c.Read(ctx)
		require.NoError(t, err, "message %d of %d MB", i, n*16>>10)
		require.Equal(t, byte(i), data[0], "in order")
	}
}

// A batched frame is bounded like any other: a client that took the batch
// subprotocol, at coder/websocket's default read limit (32 KiB), reads a
// backlog of 4 KB messages far longer than that, every frame within
// shared.MaxFrame, every message once and in order.
func TestBatchedFramesFitMaxFrame(t *testing.T) {
	t.Parallel()
	const n = 40
	srv, _, _ := serve(t, wsconn.Config{BatchDelay: 200 * time.Millisecond}, func(c *wsconn.Conn) wsconn.Handler {
		return func(int, []byte) error {
			for i := range n {
				c.Enqueue(wsconn.TextFrame([]byte(fmt.Sprintf("%02d %s", i, strings.Repeat("x", 4000)))))
			}
			return nil
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{shared.SubprotocolBatch}})
	require.NoError(t, err)
	defer c.CloseNow()
	require.Equal(t, shared.SubprotocolBatch, c.Subprotocol())
	// Two bursts: the first message of the first goes alone, the rest
	// gather; the second gathers whole.
	got, frames := 0, 0
	for burst := range 2 {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("go")))
		for want := 0; want < n; frames++ {
			_, data, err := c.Read(ctx) // at the default read limit
			require.NoError(t, err, "burst %d, message %d", burst, want)
			assert.LessOrEqual(t, len(data), shared.MaxFrame)
			for line := range shared.Lines(data) {
				require.Equal(t, fmt.Sprintf("%02d ", want), string(line[:3]), "in order, none missing")
				want++
				got++
			}
		}
	}
	assert.Equal(t, 2*n, got)
	assert.Less(t, frames, 2*n, "batched: fewer frames than messages")
}
