package wsconn_test

import (
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

func (s *started) conn(t *testing.T, i int) *wsconn.Conn {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Greater(t, len(s.conns), i)
	return s.conns[i]
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
// message, a ping or a close from the server still reaches each of them.
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
		switch i % 3 {
		case 0:
			roundTrip(t, c, "again")
		case 1:
			var pong string
			c.SetPongHandler(func(data string) error { pong = data; return nil })
			require.NoError(t, c.WriteControl(gorilla.PingMessage, []byte("are you there"), time.Now().Add(time.Second)))
			roundTrip(t, c, "after the ping")
			assert.Equal(t, "are you there", pong, "the pong carries the ping's payload")
		case 2:
			s.conn(t, i+1).Close(gorilla.CloseGoingAway, "bye")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			assert.True(t, gorilla.IsCloseError(err, gorilla.CloseGoingAway), "got %v", err)
		}
	}
}

// A client that only answers pings stays however long it is quiet; one
// that answers nothing is dropped once PongWait has passed; a connection
// hung up while parked ends.
func TestQuietClientsWhoAnswerPingsStay(t *testing.T) {
	t.Parallel()
	s := serveStarted(t, wsconn.Config{PongWait: 1500 * time.Millisecond, PingInterval: 300 * time.Millisecond})

	answers := s.dial(t) // conn 0
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := answers.ReadMessage(); err != nil { // answers pings meanwhile
				readErr <- err
				return
			}
		}
	}()
	s.dial(t) // conn 1: never reads, so never answers
	s.dial(t) // conn 2

	select {
	case c := <-s.ended:
		assert.Same(t, s.conn(t, 1), c, "the silent client is the one dropped")
	case <-time.After(10 * time.Second):
		t.Fatal("the client that answered nothing was not dropped")
	}
	time.Sleep(2 * time.Second) // longer than PongWait again
	s.conn(t, 2).Hangup()
	select {
	case c := <-s.ended:
		assert.Same(t, s.conn(t, 2), c, "the hung-up connection ended, and only it")
	case <-time.After(10 * time.Second):
		t.Fatal("a parked connection that was hung up did not end")
	}
	select {
	case err := <-readErr:
		t.Fatalf("a client that answered every ping was dropped: %v", err)
	default:
	}
	s.conn(t, 0).Close(gorilla.CloseNormalClosure, "done")
	select {
	case err := <-readErr:
		assert.True(t, gorilla.IsCloseError(err, gorilla.CloseNormalClosure), "got %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the close did not reach the client")
	}
}
