package main

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// testConn is a test client of a JSON endpoint: a real coder/websocket
// connection whose text messages a goroutine decodes, with decode, into a
// channel of M. chatConn and notifyTab add each protocol's helpers.
type testConn[M any] struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan M
	done chan struct{} // closed when the reader has stopped

	mu       sync.Mutex // guards closeErr
	closeErr error      // why the reader stopped
}

// testWait bounds every wait of a test client. Generous: only a failing
// test waits that long, and a loaded machine is slow.
const testWait = 20 * time.Second

// newTestConn starts reading conn and closes it when the test ends.
func newTestConn[M any](t *testing.T, conn *websocket.Conn, decode func([]byte) (M, error)) *testConn[M] {
	c := &testConn[M]{t: t, conn: conn, msgs: make(chan M, 100000), done: make(chan struct{})}
	go c.read(decode)
	t.Cleanup(func() {
		conn.CloseNow()
		<-c.done
	})
	return c
}

func (c *testConn[M]) read(decode func([]byte) (M, error)) {
	defer close(c.done)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		if typ != websocket.MessageText {
			c.t.Errorf("server sent a binary frame on a JSON endpoint")
			continue
		}
		m, err := decode(data)
		if err != nil {
			c.t.Errorf("server sent a message that does not decode: %v: %s", err, data)
			continue
		}
		c.msgs <- m
	}
}

// sendJSON writes v as a JSON text frame.
func (c *testConn[M]) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	c.sendRaw(websocket.MessageText, b)
}

func (c *testConn[M]) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, typ, b))
}

// next returns the next message, failing the test after testWait.
func (c *testConn[M]) next() M {
	c.t.Helper()
	m := c.nextOrEnd()
	if m == nil {
		c.t.Fatalf("connection ended while waiting for a message: %v", c.err())
	}
	return *m
}

// nextOrEnd returns the next message, or nil once the connection has ended
// and every message before the end has been read.
func (c *testConn[M]) nextOrEnd() *M {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return &m
	case <-c.done:
		select {
		case m := <-c.msgs: // messages that arrived before the end
			return &m
		default:
			return nil
		}
	case <-time.After(testWait):
		c.t.Fatal("timed out waiting for a message or the end")
	}
	return nil
}

// closeStatus waits for the connection to end and returns its close code,
// or -1 when it ended without one.
func (c *testConn[M]) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(testWait):
		c.t.Fatal("timed out waiting for the connection to close")
	}
	return websocket.CloseStatus(c.err())
}

func (c *testConn[M]) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// quiet asserts that no message arrives for a moment.
func (c *testConn[M]) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		c.t.Fatalf("unexpected message: %+v", m)
	case <-time.After(d):
	}
}
