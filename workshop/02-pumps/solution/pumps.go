// Package solution is the reference solution of exercise 2: a connection
// with a read pump and a write pump, the only goroutine that writes.
package solution

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The connection's timing. The checker makes them short.
var (
	// PongWait is how long the client may be silent: no message, no pong.
	PongWait = 60 * time.Second
	// PingPeriod is how often the server pings; under PongWait, so that
	// the answer can arrive in time.
	PingPeriod = 54 * time.Second
	// WriteWait bounds one write.
	WriteWait = 10 * time.Second
)

// Conn is one client connection. Send may be called from any goroutine.
type Conn struct {
	ws   *websocket.Conn
	send chan []byte   // to the write pump
	done chan struct{} // closed when the read pump ends
	once sync.Once
}

// Handler upgrades each request and runs its connection: onOpen is called
// once it is up, onMessage for every message the client sends (on the
// read pump's goroutine).
func Handler(onOpen func(*Conn), onMessage func(*Conn, []byte)) http.Handler {
	upgrader := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &Conn{ws: ws, send: make(chan []byte, 64), done: make(chan struct{})}
		go c.writePump()
		if onOpen != nil {
			onOpen(c)
		}
		c.readPump(onMessage)
	})
}

// Send queues msg for the client and reports whether it was queued: not
// once the connection has ended, nor when the client is 64 messages
// behind (exercise 4 is about what to do then).
func (c *Conn) Send(msg []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- msg:
		return true
	case <-c.done:
		return false
	default:
		return false
	}
}

// readPump reads until the client goes away or is silent past PongWait;
// every pong moves the deadline on. When it returns, the write pump ends
// too.
func (c *Conn) readPump(onMessage func(*Conn, []byte)) {
	defer func() {
		c.once.Do(func() { close(c.done) })
		c.ws.Close()
	}()
	c.ws.SetReadDeadline(time.Now().Add(PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(PongWait))
	})
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(PongWait))
		if onMessage != nil {
			onMessage(c, msg)
		}
	}
}

// writePump is the connection's only writer: queued messages and pings.
func (c *Conn) writePump() {
	ping := time.NewTicker(PingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close() // ends the read pump, if the write failed
	}()
	for {
		select {
		case msg := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(WriteWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}
