// Package solution is the reference solution of exercise 4: a room that
// never waits for a slow client, drops it with 1008, and closes each
// client's queue exactly once.
package solution

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
	slow bool // set, under the room's lock, when it is dropped for being slow
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
// it leaves or is dropped.
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
		r.remove(c, false)
	})
}

// Broadcast queues msg for every client and never waits: a client whose
// queue is full is dropped.
func (r *Room) Broadcast(msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.clients {
		select {
		case c.send <- msg:
		default:
			r.removeLocked(c, true)
		}
	}
}

// remove takes c out of the room and closes its queue, once: the read
// pump (the client left) and Broadcast (it fell behind) may both try.
func (r *Room) remove(c *client, slow bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(c, slow)
}

func (r *Room) removeLocked(c *client, slow bool) {
	if !r.clients[c] {
		return // gone already: closing its queue again would panic
	}
	delete(r.clients, c)
	c.slow = slow
	close(c.send)
}

// writePump writes what is queued; when the queue is closed, it says why
// with a close frame: 1008 "too slow" for a client that fell behind.
func (r *Room) writePump(c *client) {
	defer c.ws.Close()
	for msg := range c.send {
		c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			r.remove(c, false)
			return
		}
	}
	r.mu.Lock()
	slow := c.slow
	r.mu.Unlock()
	if slow {
		bye := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "too slow")
		c.ws.WriteControl(websocket.CloseMessage, bye, time.Now().Add(WriteWait))
	}
}
