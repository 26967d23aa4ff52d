// Package pumps is exercise 2: one connection with a read pump and a
// write pump. Edit this file; see README.md for the tasks, and check your
// work with
//
//	scripts/workshop check 2
package pumps

import (
	"net/http"
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
	send chan []byte // to the write pump
	// TODO(task 3): a channel that the read pump closes when it ends.
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
		c := &Conn{ws: ws, send: make(chan []byte, 64)}
		go c.writePump()
		if onOpen != nil {
			onOpen(c)
		}
		c.readPump(onMessage)
	})
}

// Send sends msg to the client and reports whether it was sent (or
// queued).
func (c *Conn) Send(msg []byte) bool {
	// This is what the well-known tutorial code does, and it is wrong:
	// Send is called from many goroutines, and so is this write.
	// TODO(task 1): queue msg on c.send instead, without blocking: when
	// the queue is full, report false.
	return c.ws.WriteMessage(websocket.TextMessage, msg) == nil
}

// readPump reads until the client goes away.
func (c *Conn) readPump(onMessage func(*Conn, []byte)) {
	defer c.ws.Close()
	// TODO(task 2): a read deadline of PongWait, moved on by every pong.
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if onMessage != nil {
			onMessage(c, msg)
		}
	}
}

// writePump is meant to be the connection's only writer.
func (c *Conn) writePump() {
	ping := time.NewTicker(PingPeriod)
	defer ping.Stop()
	for range ping.C {
		// TODO(task 1): write what Send queued (select on c.send too).
		// TODO(task 2): send a ping.
		// TODO(task 3): return once the read pump has ended.
	}
}
