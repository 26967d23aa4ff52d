package main

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// chatConn is a test client of /ws/chat: a real coder/websocket connection
// whose messages a goroutine decodes into a channel.
type chatConn struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan shared.Message
	done chan struct{} // closed when the reader has stopped

	mu       sync.Mutex // guards closeErr
	closeErr error      // why the reader stopped
}

// chatQuery builds the query of a chat URL.
func chatQuery(room, user string, extra ...string) string {
	q := url.Values{"room": {room}, "username": {user}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/ws/chat?" + q.Encode()
}

// joinChat connects to the room as user; extra holds more query pairs,
// such as "since", "3".
func (ts *testServer) joinChat(t *testing.T, room, user string, extra ...string) *chatConn {
	t.Helper()
	conn := ts.dial(t, chatQuery(room, user, extra...), nil)
	c := &chatConn{t: t, conn: conn, msgs: make(chan shared.Message, 100000), done: make(chan struct{})}
	go c.read()
	t.Cleanup(func() {
		conn.CloseNow()
		<-c.done
	})
	return c
}

func (c *chatConn) read() {
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
			c.t.Errorf("server sent a binary frame on /ws/chat")
			continue
		}
		m, err := shared.Decode(data)
		if err != nil {
			c.t.Errorf("server sent a message that does not decode: %v: %s", err, data)
			continue
		}
		c.msgs <- m
	}
}

// send writes m as JSON.
func (c *chatConn) send(m shared.Message) {
	c.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(c.t, err)
	c.sendRaw(websocket.MessageText, b)
}

func (c *chatConn) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, typ, b))
}

func (c *chatConn) say(content string) {
	c.t.Helper()
	c.send(shared.Message{Type: shared.TypeText, Content: content})
}

// next returns the next message, failing the test after 20 s (generous:
// only a failing test waits that long, and a loaded machine is slow).
func (c *chatConn) next() shared.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		// Messages that arrived before the end are still queued.
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatalf("connection ended while waiting for a message: %v", c.err())
	case <-time.After(20 * time.Second):
		c.t.Fatal("timed out waiting for a message")
	}
	return shared.Message{}
}

// nextOrEnd returns the next message, or nil once the connection has ended
// and every message before the end has been read.
func (c *chatConn) nextOrEnd() *shared.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return &m
	case <-c.done:
		select {
		case m := <-c.msgs:
			return &m
		default:
			return nil
		}
	case <-time.After(20 * time.Second):
		c.t.Fatal("timed out waiting for a message or the end")
	}
	return nil
}

// expect returns the next message and checks its type.
func (c *chatConn) expect(typ shared.Type) shared.Message {
	c.t.Helper()
	m := c.next()
	require.Equal(c.t, typ, m.Type, "next message: %+v", m)
	return m
}

// skipTo discards messages until one of type typ arrives, and returns it.
func (c *chatConn) skipTo(typ shared.Type) shared.Message {
	c.t.Helper()
	for {
		if m := c.next(); m.Type == typ {
			return m
		}
	}
}

// joined consumes the messages a fresh member receives — its own join if
// it is the user's first connection, the history and the user list — and
// returns the history and the list.
func (c *chatConn) joined() (history, users shared.Message) {
	c.t.Helper()
	m := c.next()
	if m.Type == shared.TypeJoin {
		m = c.next()
	}
	require.Equal(c.t, shared.TypeHistory, m.Type, "%+v", m)
	return m, c.expect(shared.TypeUserList)
}

// closeStatus waits for the connection to end and returns its close code.
func (c *chatConn) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Fatal("timed out waiting for the connection to close")
	}
	return websocket.CloseStatus(c.err())
}

func (c *chatConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}
