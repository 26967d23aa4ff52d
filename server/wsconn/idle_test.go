package wsconn_test

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/wsconn"
	"wsplay/shared"
)

// started is a server whose handler returns once the connection has
// started (as the real endpoints do), with every live connection kept so
// that the test can act on it.
type started struct {
	srv   *httptest.Server
	mu    sync.Mutex
	conns []*wsconn.Conn
	ended chan *wsconn.Conn
}

// serveStarted runs each connection with cfg; a text message "burst"
// makes it queue the messages "1" to "6" in one go, text except "4",
// which is binary; anything else is echoed back.
func serveStarted(t *testing.T, cfg wsconn.Config) *started {
	t.Helper()
	s := &started{ended: make(chan *wsconn.Conn, 256)}
	u := &gorilla.Upgrader{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := wsconn.Upgrade(u, w, r, true, nil)
		if err != nil {
			return
		}
		var c *wsconn.Conn
		c = wsconn.New(ws, cfg, wsconn.Options{OnEnd: func() { s.ended <- c }})
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		c.Start(func(typ int, data []byte) error {
			if string(data) == "burst" {
				for i := 1; i <= 6; i++ {
					typ := gorilla.TextMessage
					if i == 4 {
						typ = gorilla.BinaryMessage
					}
					f, _ := wsconn.NewFrame(typ, []byte{byte('0' + i)})
					c.Enqueue(f)
				}
				return nil
			}
			f, err := wsconn.NewFrame(typ, data)
			if err != nil {
				return err
			}
			c.Reply(f)
			return nil
		}, nil)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *started) dial(t *testing.T, protocols ...string) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{Subprotocols: protocols, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(s.srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// conn returns the server's side of client (registered just after the
// handshake's answer, so it may take a moment).
func (s *started) conn(t *testing.T, client *gorilla.Conn) *wsconn.Conn {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		for _, c := range s.conns {
			if c.RemoteAddr().String() == client.LocalAddr().String() {
				s.mu.Unlock()
				return c
			}
		}
		s.mu.Unlock()
	}
	t.Fatal("the server has no connection for the client")
	return nil
}

// roundTrip sends msg and waits for it to come back.
func roundTrip(t *testing.T, c *gorilla.Conn, msg string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	require.NoError(t, c.WriteMessage(gorilla.TextMessage, []byte(msg)))
	_, got, err := c.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, msg, string(got))
}

// frame is one frame as the client read it.
type frame struct {
	typ  int
	data string
}

func readFrames(t *testing.T, c *gorilla.Conn, lines int) []frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []frame
	for n := 0; n < lines; {
		typ, data, err := c.ReadMessage()
		require.NoError(t, err)
		got = append(got, frame{typ, string(data)})
		for range shared.Lines(data) {
			n++
		}
	}
	return got
}

// A client that offered the batch subprotocol gets runs of queued text
// messages as one frame, a line each, with binary messages left alone and
// the order kept; a client that did not gets one frame per message.
func TestBatchFramesOnlyForClientsThatAskedForThem(t *testing.T) {
	t.Parallel()
	s := serveStarted(t, wsconn.Config{BatchDelay: 200 * time.Millisecond})

	batched := s.dial(t, "other", shared.SubprotocolBatch)
	assert.Equal(t, shared.SubprotocolBatch, batched.Subprotocol())
	// The first message after a quiet spell goes at once; what follows
	// within BatchDelay of that write gathers.
	require.NoError(t, batched.WriteMessage(gorilla.TextMessage, []byte("burst")))
	readFrames(t, batched, 6)
	require.NoError(t, batched.WriteMessage(gorilla.TextMessage, []byte("burst")))
	assert.Equal(t, []frame{
		{gorilla.TextMessage, "1\n2\n3"}, {gorilla.BinaryMessage, "4"}, {gorilla.TextMessage, "5\n6"},
	}, readFrames(t, batched, 5))

	plain := s.dial(t, "other")
	assert.Empty(t, plain.Subprotocol(), "a subprotocol the server does not know is not confirmed")
	require.NoError(t, plain.WriteMessage(gorilla.TextMessage, []byte("burst")))
	assert.Equal(t, []frame{
		{gorilla.TextMessage, "1"}, {gorilla.TextMessage, "2"}, {gorilla.TextMessage, "3"},
		{gorilla.BinaryMessage, "4"}, {gorilla.TextMessage, "5"}, {gorilla.TextMessage, "6"},
	}, readFrames(t, plain, 6))
}

// Connections that wait for their client hold no goroutine: after a
// second of quiet the readers give the sockets to one poller, and a
// message, a ping, a close from the server or a hangup still reaches each
// of them.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	s := serveStarted(t, wsconn.Config{})
	roundTrip(t, s.dial(t), "warm up") // the server's listener and the poller exist
	time.Sleep(1500 * time.Millisecond)
	before := runtime.NumGoroutine()

	const n = 50
	clients := make([]*gorilla.Conn, n)
	for i := range clients {
		clients[i] = s.dial(t)
		roundTrip(t, clients[i], "hello")
	}
	// gorilla's client holds no goroutine, so what the count grows by
	// is the server's. It settles once every reader has parked.
	var held int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if held = runtime.NumGoroutine() - before; held <= 2 {
			break
		}
	}
	assert.LessOrEqual(t, held, 2, "goroutines held by %d idle connections", n)

	// Woken by a message, a ping, or the server's close.
	for i, c := range clients {
		switch i % 4 {
		case 0:
			roundTrip(t, c, "again")
		case 1:
			var pong string
			c.SetPongHandler(func(data string) error { pong = data; return nil })
			require.NoError(t, c.WriteControl(gorilla.PingMessage, []byte("are you there"), time.Now().Add(time.Second)))
			roundTrip(t, c, "after the ping")
			assert.Equal(t, "are you there", pong, "the pong carries the ping's payload")
		case 2:
			s.conn(t, c).Close(gorilla.CloseGoingAway, "bye")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			assert.True(t, gorilla.IsCloseError(err, gorilla.CloseGoingAway), "got %v", err)
		case 3:
			s.conn(t, c).Hangup()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			var ne net.Error
			assert.False(t, errors.As(err, &ne) && ne.Timeout(), "a hung-up socket is closed at once: %v", err)
		}
	}
	// The closed and the hung-up connections all end: their readers were
	// started again to see the end.
	for range n / 4 * 2 {
		select {
		case <-s.ended:
		case <-time.After(10 * time.Second):
			t.Fatal("a parked connection that was closed or hung up did not end")
		}
	}
}

// A client that only answers pings stays however long it is quiet; one
// that answers nothing is dropped once PongWait has passed; a hung-up
// connection ends.
func TestQuietClientsWhoAnswerPingsStay(t *testing.T) {
	t.Parallel()
	s := serveStarted(t, wsconn.Config{PongWait: 1500 * time.Millisecond, PingInterval: 300 * time.Millisecond})

	// answerPings reads on c's own goroutine, which answers pings, and
	// reports the error that ended the reading.
	answerPings := func(c *gorilla.Conn) <-chan error {
		ended := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					ended <- err
					return
				}
			}
		}()
		return ended
	}
	answers, hungUp := s.dial(t), s.dial(t)
	readErr, hungUpErr := answerPings(answers), answerPings(hungUp)
	silent := s.dial(t) // never reads, so never answers

	select {
	case c := <-s.ended:
		assert.True(t, c == s.conn(t, silent), "the silent client is the one dropped")
	case <-time.After(10 * time.Second):
		t.Fatal("the client that answered nothing was not dropped")
	}
	time.Sleep(2 * time.Second) // longer than PongWait again
	s.conn(t, hungUp).Hangup()
	select {
	case c := <-s.ended:
		assert.True(t, c == s.conn(t, hungUp), "the hung-up connection ended, and only it")
	case <-time.After(10 * time.Second):
		t.Fatal("a parked connection that was hung up did not end")
	}
	select {
	case err := <-hungUpErr:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the hung-up client's socket stayed open")
	}
	select {
	case err := <-readErr:
		t.Fatalf("a client that answered every ping was dropped: %v", err)
	default:
	}
	s.conn(t, answers).Close(gorilla.CloseNormalClosure, "done")
	select {
	case err := <-readErr:
		assert.True(t, gorilla.IsCloseError(err, gorilla.CloseNormalClosure), "got %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the close did not reach the client")
	}
}

// syncBuffer is a log destination for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// At Debug level a connection logs its end with its attributes, those of
// Options.LogArgs and of LogWith; at Info it logs nothing of it.
func TestDebugLinesCarryTheConnectionsAttributes(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var logs syncBuffer
		ended := make(chan struct{})
		u := &gorilla.Upgrader{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := wsconn.Upgrade(u, w, r, false, nil)
			if err != nil {
				return
			}
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
			c := wsconn.New(ws, wsconn.Config{}, wsconn.Options{Log: log, LogArgs: func() []any { return []any{"conn", 7} }, OnEnd: func() { close(ended) }})
			c.LogWith(func() []any { return []any{"room", "lab"} })
			c.Start(func(int, []byte) error { return nil }, nil)
		}))
		d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
		client, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		require.NoError(t, err)
		client.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(time.Second))
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection did not end")
		}
		client.Close()
		srv.Close()
		if level == slog.LevelDebug {
			assert.Contains(t, logs.String(), `msg="connection ended" conn=7 room=lab`)
		} else {
			assert.Empty(t, logs.String())
		}
	}
}

// A close does not wait for a batch to gather: with a BatchDelay far
// longer than the test, what was queued and the close frame arrive at
// once after Close.
func TestCloseCutsABatchGatherShort(t *testing.T) {
	t.Parallel()
	s := serveStarted(t, wsconn.Config{BatchDelay: time.Minute})
	client := s.dial(t, shared.SubprotocolBatch)
	conn := s.conn(t, client)
	enqueue := func(text string) {
		f, err := wsconn.NewFrame(gorilla.TextMessage, []byte(text))
		require.NoError(t, err)
		require.True(t, conn.Enqueue(f))
	}
	// A first message goes out at once, after a quiet spell...
	enqueue("first")
	require.Equal(t, "first", readFrames(t, client, 1)[0].data)
	// ...and makes the next ones wait for the gather, a minute.
	enqueue("2")
	enqueue("3")
	conn.Close(gorilla.CloseNormalClosure, "bye")
	var lines []string
	client.SetReadDeadline(time.Now().Add(10 * time.Second)) // a sixth of the BatchDelay
	for {
		_, data, err := client.ReadMessage()
		if err != nil {
			var ce *gorilla.CloseError
			require.ErrorAs(t, err, &ce, "the close frame arrives, not the deadline")
			assert.Equal(t, gorilla.CloseNormalClosure, ce.Code)
			break
		}
		for line := range shared.Lines(data) {
			lines = append(lines, string(line))
		}
	}
	assert.Equal(t, []string{"2", "3"}, lines, "what was queued goes before the close frame")
}
