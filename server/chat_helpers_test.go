package main

import (
	"net/url"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// chatConn is a test client of /ws/chat.
type chatConn struct {
	*testConn[shared.Message]
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
	return ts.joinChatAt(t, chatQuery(room, user, extra...), nil)
}

// joinChatAt connects to path (/ws/chat?…) with opts, such as a token in
// a header.
func (ts *testServer) joinChatAt(t *testing.T, path string, opts *websocket.DialOptions) *chatConn {
	t.Helper()
	conn := ts.dial(t, path, opts)
	return &chatConn{newTestConn(t, conn, shared.Decode)}
}

// send writes m as JSON.
func (c *chatConn) send(m shared.Message) {
	c.t.Helper()
	c.sendJSON(m)
}

func (c *chatConn) say(content string) {
	c.t.Helper()
	c.send(shared.Message{Type: shared.TypeText, Content: content})
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
	// A long history comes in pages: gather them into one.
	for page := m; page.More; {
		page = c.expect(shared.TypeHistory)
		m.Messages, m.More = append(m.Messages, page.Messages...), page.More
	}
	return m, c.expect(shared.TypeUserList)
}
