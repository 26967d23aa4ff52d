// Package hub is exercise 3: the hub that relays every broadcast to every
// client. Edit this file; see README.md for the tasks, and check your
// work with
//
//	scripts/workshop check 3
package hub

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

// Unregister removes c and closes its Send.
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

// Run is the hub's goroutine, until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.done)
	for {
		select {
		case c := <-h.register:
			h.clients[c] = true
			// Tell the others, the tutorial's way. TODO(task 2): this
			// line never returns. Why?
			h.broadcast <- []byte(Joined)
		case c := <-h.unregister:
			// TODO(task 3): remove c and close its Send, once.
			_ = c
		case msg := <-h.broadcast:
			// TODO(task 1): give msg to every client, without waiting
			// for any of them.
			_ = msg
		case <-ctx.Done():
			// TODO(task 3): close every client's Send.
			return
		}
	}
}
