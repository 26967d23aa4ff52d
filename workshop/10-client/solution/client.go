// Package solution is the reference solution of exercise 10: a chat
// client that reconnects with jittered backoff, resumes exactly where it
// was, and resends what was not acknowledged.
package solution

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
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

	mu       sync.Mutex
	lastSeq  uint64 // the newest seq handed to OnText
	epoch    string
	outbox   []shared.Message // sent or not, not yet acknowledged
	conn     *websocket.Conn
	idPrefix int64
	nextID   int
}

// Send queues text for the room. It is sent now if the client is
// connected, and again after every reconnection until the room
// acknowledges it (with the message, which carries its id).
func (c *Client) Send(ctx context.Context, text string) {
	c.mu.Lock()
	if c.idPrefix == 0 {
		c.idPrefix = 1 + rand.Int64N(1<<62) // ids unique to this client: the room keys them by user
	}
	c.nextID++
	m := shared.Message{Type: shared.TypeText, Content: text, ID: fmt.Sprintf("%x-%d", c.idPrefix, c.nextID)}
	c.outbox = append(c.outbox, m)
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		write(ctx, conn, m) // a failure is the read loop's to notice
	}
}

// Run connects and reconnects until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	ceiling := c.Min
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			ceiling = c.Min // it was connected: start again from the floor
		}
		wait := time.Duration(rand.Int64N(int64(ceiling) + 1)) // full jitter
		ceiling = min(ceiling*2, c.Max)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// session is one connection: it returns nil if the connection was up,
// an error if it could not be made.
func (c *Client) session(ctx context.Context) error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.epoch != "" { // resume from the newest message seen
		q := u.Query()
		q.Set("since", fmt.Sprint(c.lastSeq))
		q.Set("epoch", c.epoch)
		u.RawQuery = q.Encode()
	}
	c.mu.Unlock()
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, _, err := websocket.Dial(dialCtx, u.String(), nil)
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	c.mu.Lock()
	c.conn = conn
	pending := append([]shared.Message(nil), c.outbox...)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
	}()
	for _, m := range pending { // the same ids: the room stores each once
		write(ctx, conn, m)
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return nil
		}
		var m shared.Message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		c.receive(m)
	}
}

func (c *Client) receive(m shared.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m.Type {
	case shared.TypeHistory:
		if m.Recovered != nil && !*m.Recovered || c.epoch != "" && m.Epoch != c.epoch {
			c.lastSeq = 0 // another history: what it holds is new
		}
		c.epoch = m.Epoch
		for _, h := range m.Messages {
			c.text(h)
		}
	case shared.TypeText:
		c.text(m)
	}
}

// text hands m on once, and takes an acknowledged message off the outbox.
func (c *Client) text(m shared.Message) {
	for i, o := range c.outbox {
		if o.ID != "" && o.ID == m.ID {
			c.outbox = append(c.outbox[:i], c.outbox[i+1:]...)
			break
		}
	}
	if m.Seq <= c.lastSeq {
		return // seen already
	}
	c.lastSeq = m.Seq
	if c.OnText != nil {
		c.OnText(m)
	}
}

func write(ctx context.Context, conn *websocket.Conn, m shared.Message) {
	data, _ := json.Marshal(m)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn.Write(wctx, websocket.MessageText, data)
}
