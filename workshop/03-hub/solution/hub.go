// Package solution is the reference solution of exercise 3: a hub, one
// goroutine that owns the set of clients, and never sends on its own
// channels.
package solution

import "context"

// Joined is what the clients already there receive when one more
// registers.
const Joined = "a client joined"

// Client is one member of the hub. Its write pump (exercise 2) sends
// what arrives on Send; the hub closes Send when the client leaves.
type Client struct {
	Send chan []byte
}

// NewClient returns a client whose Send holds 16 messages.
func NewClient() *Client { return &Client{Send: make(chan []byte, 16)} }

// Hub relays every broadcast to every registered client.
type Hub struct {
	register   chan *Client
	unregister chan *Client
	broadcast  chan []byte
	done       chan struct{}
	clients    map[*Client]bool // owned by Run's goroutine
}

// NewHub returns a hub; run it with Run.
func NewHub() *Hub {
	return &Hub{
		register:   make(chan *Client),
		unregister: make(chan *Client),
		broadcast:  make(chan []byte),
		done:       make(chan struct{}),
		clients:    map[*Client]bool{},
	}
}

// Register adds c; it reports false once the hub has stopped.
func (h *Hub) Register(c *Client) bool { return send(h, h.register, c) }

// Unregister removes c and closes its Send; a client that is not
// registered (any more) is left alone.
func (h *Hub) Unregister(c *Client) bool { return send(h, h.unregister, c) }

// Broadcast gives msg to every client.
func (h *Hub) Broadcast(msg []byte) bool { return send(h, h.broadcast, msg) }

func send[T any](h *Hub, ch chan T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-h.done:
		return false
	}
}

// Run is the hub's goroutine, until ctx ends. Only it touches clients,
// and it only ever receives from its channels: sending on one of them
// from here would wait for a receiver that is this very goroutine.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.done)
	for {
		select {
		case c := <-h.register:
			h.deliver([]byte(Joined)) // directly, not through h.broadcast
			h.clients[c] = true
		case c := <-h.unregister:
			if h.clients[c] { // only once: a second close would panic
				delete(h.clients, c)
				close(c.Send)
			}
		case msg := <-h.broadcast:
			h.deliver(msg)
		case <-ctx.Done():
			for c := range h.clients {
				close(c.Send)
			}
			return
		}
	}
}

// deliver queues msg for every client, never waiting: a client whose
// Send is full is dropped (exercise 4 is about doing that well).
func (h *Hub) deliver(msg []byte) {
	for c := range h.clients {
		select {
		case c.Send <- msg:
		default:
			delete(h.clients, c)
			close(c.Send)
		}
	}
}
