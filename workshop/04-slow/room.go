// Package slow is exercise 4: a room that must not wait for its slowest
// client. Edit this file; see README.md for the tasks, and check your
// work with
//
//	scripts/workshop check 4
package slow

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// QueueSize is how many messages a client may be behind before it is
// dropped.
const QueueSize = 16

// WriteWait bounds one write.
const WriteWait = 10 * time.Second

// Room relays every broadcast to every client.
type Room struct {
	mu      sync.Mutex
	clients map[*client]bool
}

type client struct {
	ws   *websocket.Conn
	send chan []byte
	// TODO(task 2): remember why the client was removed.
}

// NewRoom returns an empty room.
func NewRoom() *Room { return &Room{clients: map[*client]bool{}} }

// Len returns how many clients are in the room.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}

// Handler upgrades each request and keeps the client in the room until
// it leaves.
func (r *Room) Handler() http.Handler {
	upgrader := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ws, err := upgrader.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		c := &client{ws: ws, send: make(chan []byte, QueueSize)}
		r.mu.Lock()
		r.clients[c] = true
		r.mu.Unlock()
		go r.writePump(c)
		for { // the read pump: this room only listens for the client leaving
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		// The client left.
		// TODO(task 3): this closes the queue even when Broadcast has
		// closed it already.
		r.mu.Lock()
		delete(r.clients, c)
		close(c.send)
		r.mu.Unlock()
	})
}

// Broadcast queues msg for every client.
func (r *Room) Broadcast(msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.clients {
		// TODO(task 1): this waits while the client's queue is full, and
		// holds the lock meanwhile: one client that does not read stops
		// the room. Drop that client instead.
		c.send <- msg
	}
}

// writePump writes what is queued, and closes the connection when the
// queue is closed.
func (r *Room) writePump(c *client) {
	defer c.ws.Close()
	for msg := range c.send {
		c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
	// TODO(task 2): a client dropped for being slow is told so: a close
	// frame with 1008 "too slow".
}
