package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
	"unicode/utf8"
	"wsplay/server/metrics"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// client is one WebSocket connection and the two goroutines that own it.
//
// gorilla/websocket allows one concurrent reader and one concurrent writer.
// So readPump, which runs on the HTTP handler's goroutine, is the only
// reader, and writePump is the only writer. Anyone else hands writePump a
// message with enqueue, or asks for the end with close. (Close and
// WriteControl on the connection are safe from any goroutine; nothing here
// needs them outside the pumps except for the final hang-up.)
//
// Teardown is a chain:
//
//  1. Someone calls close(code, reason): the peer sent bad input, its queue
//     filled, the server is shutting down, or readPump ended. The first call
//     records the code and closes done; later calls do nothing.
//  2. writePump sees done, writes the close frame, waits up to CloseGrace
//     for readPump to see the peer's answer, and hangs up.
//  3. readPump's read fails, and run returns.
//
// The send queue is never closed: producers select on done instead. So no
// producer can send on a closed channel, and no one can close it twice.
type client struct {
	id   uint64
	ip   string // remote address, for the connection limits
	user string // identity, for the per-user limit; "" when anonymous
	ws   *websocket.Conn
	cfg  *Config
	log  *slog.Logger
	send chan outgoing

	// stats counts this connection's traffic into its endpoint's metrics;
	// nil counts nothing. Set before run.
	stats *metrics.Endpoint
	// latest, when not nil, is a second source of messages for writePump:
	// a one-slot mailbox that its producer overwrites instead of queueing
	// behind (see viewer.offer in dashboard.go). Set before run.
	latest chan *websocket.PreparedMessage

	closeOnce   sync.Once
	done        chan struct{} // closed by the first close call
	closeCode   int           // set before done is closed; 0 means no frame is sent
	closeReason string

	readDone  chan struct{} // closed when readPump has returned
	writeDone chan struct{} // closed when writePump has returned
}

func newClient(id uint64, ws *websocket.Conn, cfg *Config, log *slog.Logger) *client {
	return &client{
		id:        id,
		ws:        ws,
		cfg:       cfg,
		log:       log,
		send:      make(chan outgoing, cfg.SendQueue),
		done:      make(chan struct{}),
		readDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
	}
}

// outgoing is a message waiting in a send queue, with the time it was
// queued, so that writePump can measure the fan-out latency.
type outgoing struct {
	m  *websocket.PreparedMessage
	at time.Time
}

// enqueue hands m to writePump without ever blocking the caller. A full
// queue means the peer reads slower than messages arrive for it: the client
// is closed with 1008 and m is dropped. It reports whether m was queued.
func (c *client) enqueue(m *websocket.PreparedMessage) bool {
	return c.enqueueAt(m, time.Now())
}

// enqueueAt is enqueue with the time to measure the fan-out latency from:
// a broadcast reads the clock once for all its recipients.
func (c *client) enqueueAt(m *websocket.PreparedMessage, at time.Time) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- outgoing{m, at}:
		return true
	default:
		c.close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return false
	}
}

// enqueueWait is enqueue for a producer that may wait: it blocks until m
// is queued or the client is closed, and reports whether m was queued.
// Only work done for this one connection may use it (such as sending its
// stored backlog); a producer that serves many connections uses enqueue,
// so that one slow connection never holds it up.
func (c *client) enqueueWait(m *websocket.PreparedMessage) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- outgoing{m, time.Now()}: // the fan-out latency includes the wait
		return true
	case <-c.done:
		return false
	}
}

// close asks for the connection to end with the given close code and
// reason. Only the first call counts; it is safe from any goroutine. Code 0
// ends the connection without a close frame (the peer is gone already).
func (c *client) close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.done)
	})
}

// errClosedByServer ends readPump after the server decided to close.
var errClosedByServer = errors.New("closed by server")

// run serves the connection until it ends: writePump on a new goroutine,
// readPump on this one. handle is called for every message that arrives,
// in order, from readPump; it must not block for long, and returns an error
// only after calling close to say how the connection ends. run returns
// after both pumps have, with the connection closed.
func (c *client) run(handle func(typ int, data []byte) error) {
	go c.writePump()
	err := c.readPump(handle)
	close(c.readDone)

	peerClosed, peerGone := false, false
	var closeErr *websocket.CloseError
	var netErr net.Error
	switch {
	case errors.As(err, &closeErr):
		// The peer closed and gorilla has already answered its close frame.
		peerClosed = true
		c.close(0, "")
		c.log.Debug("peer closed", "code", closeErr.Code, "reason", closeErr.Text)
	case errors.Is(err, errClosedByServer):
		// close was called with the code to send.
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent 1009; record it for the log.
		c.close(websocket.CloseMessageTooBig, shared.ReasonTooBig)
	case errors.As(err, &netErr):
		// Reset, closed by writePump, or silent past the read deadline:
		// there is no one left to send a close frame to, nor to drain.
		peerGone = true
		c.close(0, "")
		if netErr.Timeout() {
			c.log.Info("client silent past the pong deadline", "pong_wait", c.cfg.PongWait)
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		peerGone = true
		c.close(0, "") // the peer hung up without a close frame
	default:
		// A malformed frame: gorilla has sent 1002 already.
		c.close(websocket.CloseProtocolError, "")
		c.log.Info("closing: protocol error", "err", err)
	}
	<-c.writeDone
	if c.closeReason == shared.ReasonTooSlow {
		c.stats.SlowConsumer() // here, once, however many enqueues found the queue full
	}
	switch {
	case peerClosed, peerGone:
	case errors.Is(err, errClosedByServer):
		c.awaitClose()
	default:
		c.linger()
	}
	c.ws.Close()
	c.log.Debug("connection ended", "code", c.closeCode, "reason", c.closeReason)
}

// readPump reads messages until the connection fails or the server closes
// it. Only readPump reads, and only it touches the read deadline.
func (c *client) readPump(handle func(typ int, data []byte) error) error {
	c.ws.SetReadLimit(c.cfg.ReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(c.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.cfg.PongWait))
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		c.stats.Received()
		select {
		case <-c.done:
			return errClosedByServer
		default:
		}
		// gorilla does not check that text is UTF-8; RFC 6455 requires it.
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			c.log.Info("closing: invalid UTF-8 in a text frame")
			c.close(websocket.CloseInvalidFramePayloadData, shared.ReasonInvalidUTF8)
			return errClosedByServer
		}
		if err := handle(typ, data); err != nil {
			return err
		}
	}
}

// writePump writes queued messages and pings until the client is closed,
// then writes the close frame. Only writePump writes.
func (c *client) writePump() {
	defer close(c.writeDone)
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case q := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
			if err := c.ws.WritePreparedMessage(q.m); err != nil {
				c.writeFailed(err)
				return
			}
			c.stats.Sent()
			c.stats.ObserveFanout(time.Since(q.at))
		case m := <-c.latest: // never ready when latest is nil
			c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
			if err := c.ws.WritePreparedMessage(m); err != nil {
				c.writeFailed(err)
				return
			}
			c.stats.Sent()
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.writeFailed(err)
				return
			}
		case <-c.done:
			if c.closeReason != shared.ReasonTooSlow {
				c.flush()
			}
			c.writeClose()
			return
		}
	}
}

// flush writes what is already queued, so that a client closed for a
// reason first receives the messages that explain it (error messages
// before a 1008, say). A client closed for being too slow gets no flush.
func (c *client) flush() {
	c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
	for {
		select {
		case q := <-c.send:
			if err := c.ws.WritePreparedMessage(q.m); err != nil {
				return
			}
			c.stats.Sent()
			c.stats.ObserveFanout(time.Since(q.at))
		default:
			return
		}
	}
}

// writeFailed ends a client whose connection no longer takes writes.
// Closing the connection makes readPump's read fail.
func (c *client) writeFailed(err error) {
	c.log.Debug("write failed", "err", err)
	c.close(0, "")
	c.ws.Close()
}

// writeClose sends the close frame, if one is due, and gives the peer
// CloseGrace to answer before hanging up.
func (c *client) writeClose() {
	if c.closeCode == 0 {
		return
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeReason)
	if err := c.ws.WriteMessage(websocket.CloseMessage, msg); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		c.ws.Close()
		return
	}
	t := time.NewTimer(c.cfg.CloseGrace)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
		c.ws.Close() // the peer did not answer; readPump's read now fails
	}
}

// awaitClose reads and discards messages until the peer's answer to the
// close frame arrives, or CloseGrace passes. It is for a server-decided
// close after a whole message, when gorilla's reader is still in step
// with the frames: the server then hangs up as soon as the peer answers,
// where linger would wait for the peer to hang up first, which browsers
// leave to the server (RFC 6455, section 7.1.1).
func (c *client) awaitClose() {
	if err := c.ws.SetReadDeadline(time.Now().Add(c.cfg.CloseGrace)); err != nil {
		return
	}
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// linger reads and discards whatever the peer still sends, until it hangs
// up or CloseGrace passes. Closing a socket with unread input makes the
// kernel send a reset, which can destroy the close frame before the peer
// reads it; so the server drains first. The amount read is bounded.
func (c *client) linger() {
	const maxLinger = 1 << 20
	nc := c.ws.UnderlyingConn()
	if err := nc.SetReadDeadline(time.Now().Add(c.cfg.CloseGrace)); err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(nc, maxLinger))
}
