// Package client is exercise 10: a chat client that survives the
// network. Edit this file; see README.md for the tasks, and check your
// work with
//
//	scripts/workshop check 10
//
// The client uses coder/websocket, which compiles for the browser
// (GOOS=js GOARCH=wasm) as well: the page's own client works this way.
package client

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
)

// Client is one chat client of a room.
type Client struct {
	// URL is the room's address: ws://host/ws/chat?room=R&username=U.
	URL string
	// Min and Max bound the wait before a reconnection: the first wait is
	// at most Min, and the ceiling doubles with each failure up to Max.
	Min, Max time.Duration
	// OnText is called with each text message of the room, once, in
	// order; it must not block.
	OnText func(shared.Message)

	mu   sync.Mutex
	conn *websocket.Conn
	// TODO(task 2): the epoch and the newest seq handed on.
	// TODO(task 3): an outbox of what was sent and not yet acknowledged.
}

// Send sends text to the room.
func (c *Client) Send(ctx context.Context, text string) {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	// TODO(task 3): while disconnected the line is lost. Give it an id
	// of its own, keep it until the room sends it back, and send it again
	// after each reconnection.
	if conn != nil {
		data, _ := json.Marshal(shared.Message{Type: shared.TypeText, Content: text})
		conn.Write(ctx, websocket.MessageText, data)
	}
}

// Run connects and reconnects until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		c.session(ctx)
		// TODO(task 1): this comes straight back: a client that lost the
		// server tries again as fast as it can, with every other client.
	}
	return ctx.Err()
}

// session is one connection, until it drops.
func (c *Client) session(ctx context.Context) {
	// TODO(task 2): after the first connection, ask for what came after
	// the newest message seen: ?since=SEQ&epoch=EPOCH.
	conn, _, err := websocket.Dial(ctx, c.URL, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
	}()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var m shared.Message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case shared.TypeHistory:
			for _, h := range m.Messages {
				c.OnText(h) // TODO(task 2): each seq once
			}
		case shared.TypeText:
			c.OnText(m)
		}
	}
}
