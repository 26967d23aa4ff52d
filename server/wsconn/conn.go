// Package wsconn is one WebSocket connection of the server: its read
// pump, its write pump, its send queue and its close sequence, per
// connection message rate limits, and the count of its bytes on the wire.
//
// gorilla/websocket allows one concurrent reader and one concurrent
// writer. A [Conn] makes that structural: [Conn.Run] runs the read pump on
// the caller's goroutine (the HTTP handler's) and the write pump on a
// goroutine of its own; anyone else hands the write pump a message with
// [Conn.Enqueue], or asks for the end with [Conn.Close]. That is the
// gorilla chat example's client, with its bugs taken out: the send queue
// is never closed, so nobody can send on a closed channel or close it
// twice; and a full queue closes the slow client instead of blocking the
// sender.
//
// Timeouts are in [Config], whose zero value is ready to use.
package wsconn

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"wsplay/server/metrics"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// Conn is one WebSocket connection and the two goroutines that own it.
//
// readPump, which runs on the goroutine that calls Run, is the only
// reader, and writePump is the only writer. Every method except Run may
// be called from any goroutine.
//
// Teardown is a chain:
//
//  1. Someone calls Close(code, reason): the peer sent bad input, its queue
//     filled, the server is shutting down, or readPump ended. The first call
//     records the code and closes Done; later calls do nothing.
//  2. writePump sees Done, writes the close frame, waits up to CloseGrace
//     for readPump to see the peer's answer, and hangs up.
//  3. readPump's read fails, and Run returns.
//
// The send queue is never closed: producers select on Done instead.
type Conn struct {
	ws   *websocket.Conn
	cfg  Config
	log  *slog.Logger
	send chan outgoing
	// queuedBytes counts the payload bytes in send, against
	// Config.SendQueueBytes; drained gets a token after each write, for
	// EnqueueWait.
	queuedBytes atomic.Int64
	drained     chan struct{}
	stats       *metrics.Endpoint // nil counts nothing
	// latest, when not nil, is a second source of messages for writePump:
	// a one-slot mailbox that its producer overwrites instead of queueing
	// behind (see SetLatest). Set before Run.
	latest chan *Frame
	onEnd  func() // called once Run is done; may be nil

	closeOnce   sync.Once
	done        chan struct{} // closed by the first close call
	closeCode   int           // set before done is closed; 0 means no frame is sent
	closeReason string

	readDone  chan struct{} // closed when readPump has returned
	writeDone chan struct{} // closed when writePump has returned
}

// Options are what a Conn is given besides its socket and Config. Every
// field may be left zero.
type Options struct {
	// Log receives the connection's log lines: closes at Debug, client
	// misbehaviour at Info. Default: discarded.
	Log *slog.Logger
	// Stats counts the connection's messages and fan-out latency (its
	// bytes are counted by Upgrade). Default: nothing is counted.
	Stats *metrics.Endpoint
	// OnEnd is called once, after Run has returned and the connection is
	// closed. The admission gate uses it to forget the connection.
	OnEnd func()
}

// New wraps ws, a connection just upgraded, for Run. The caller must call
// Run exactly once, even for a connection it closes at once (Close, then
// Run: the close frame goes out and the socket is released).
func New(ws *websocket.Conn, cfg Config, opts Options) *Conn {
	cfg = cfg.WithDefaults()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Conn{
		ws:        ws,
		cfg:       cfg,
		log:       log,
		stats:     opts.Stats,
		onEnd:     opts.OnEnd,
		send:      make(chan outgoing, cfg.SendQueue),
		drained:   make(chan struct{}, 1),
		done:      make(chan struct{}),
		readDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
	}
}

// Frame is one message prepared once for any number of connections,
// with its size, which the send queues count against their byte budget.
type Frame struct {
	pm   *websocket.PreparedMessage
	size int
}

// NewFrame prepares data as a message of typ (websocket.TextMessage or
// websocket.BinaryMessage).
func NewFrame(typ int, data []byte) (*Frame, error) {
	pm, err := websocket.NewPreparedMessage(typ, data)
	if err != nil {
		return nil, err
	}
	return &Frame{pm: pm, size: len(data)}, nil
}

// TextFrame prepares data as a text message.
func TextFrame(data []byte) *Frame {
	f, err := NewFrame(websocket.TextMessage, data)
	if err != nil {
		panic("prepare a text frame: " + err.Error()) // only for a bad frame type
	}
	return f
}

// Size returns the frame's payload size in bytes.
func (f *Frame) Size() int { return f.size }

// outgoing is a message waiting in a send queue, with the time it was
// queued, so that writePump can measure the fan-out latency.
type outgoing struct {
	f  *Frame
	at time.Time
}

// Enqueue hands f to writePump without ever blocking the caller. A full
// queue (Config.SendQueue messages or Config.SendQueueBytes bytes) means
// the peer reads slower than messages arrive for it: the client is closed
// with 1008 and f is dropped. It reports whether f was queued.
func (c *Conn) Enqueue(f *Frame) bool {
	return c.EnqueueAt(f, time.Now())
}

// EnqueueAt is Enqueue with the time to measure the fan-out latency from:
// a broadcast reads the clock once for all its recipients.
func (c *Conn) EnqueueAt(f *Frame, at time.Time) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if !c.reserve(f.size) {
		c.Close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return false
	}
	select {
	case c.send <- outgoing{f, at}:
		return true
	default:
		c.queuedBytes.Add(-int64(f.size))
		c.Close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return false
	}
}

// reserve counts size bytes against the byte budget and reports whether
// they fit. A frame larger than the budget fits an empty queue, so that
// no message is too big to send at all.
func (c *Conn) reserve(size int) bool {
	n := c.queuedBytes.Add(int64(size))
	if n > int64(c.cfg.SendQueueBytes) && n > int64(size) {
		c.queuedBytes.Add(-int64(size))
		return false
	}
	return true
}

// EnqueueWait is Enqueue for a producer that may wait: it blocks until f
// fits the queue, in messages and in bytes, or the client is closed, and
// reports whether f was queued. Only work done for this one connection
// may use it (such as sending its stored backlog); a producer that serves
// many connections uses Enqueue, so that one slow connection never holds
// it up.
func (c *Conn) EnqueueWait(f *Frame) bool {
	for {
		select {
		case <-c.done:
			return false
		default:
		}
		if c.reserve(f.size) {
			select {
			case c.send <- outgoing{f, time.Now()}: // the fan-out latency includes the wait
				return true
			case <-c.done:
				c.queuedBytes.Add(-int64(f.size))
				return false
			}
		}
		select {
		case <-c.drained:
		case <-c.done:
			return false
		}
	}
}

// sent gives back the budget of a frame that has been written, and wakes
// a producer waiting for room.
func (c *Conn) sent(f *Frame) {
	c.queuedBytes.Add(-int64(f.size))
	select {
	case c.drained <- struct{}{}:
	default:
	}
}

// Close asks for the connection to end with the given close code and
// reason. Only the first call counts; it is safe from any goroutine. Code 0
// ends the connection without a close frame (the peer is gone already).
func (c *Conn) Close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.done)
	})
}

// Done is closed once the connection is ending: Close was called, by
// anyone, for any reason.
func (c *Conn) Done() <-chan struct{} { return c.done }

// CloseStatus returns the close code and reason the connection ended
// with, once Done is closed: code 0 means no close frame was sent (the
// peer closed, or was gone).
func (c *Conn) CloseStatus() (code int, reason string) {
	select {
	case <-c.done:
		return c.closeCode, c.closeReason
	default:
		return 0, ""
	}
}

// Hangup closes the socket at once, without a close frame: for a
// shutdown whose grace period is over. Run then returns.
func (c *Conn) Hangup() {
	c.Close(0, "")
	c.ws.Close()
}

// SetLatest gives the write pump a second source of messages: a mailbox
// with room for one, which its producer overwrites instead of queueing
// behind, so a slow reader gets the newest message and never a backlog
// (the dashboard's viewers use it). Call it before Run.
func (c *Conn) SetLatest(mailbox chan *Frame) { c.latest = mailbox }

// LogWith adds attributes to every line the connection logs, such as
// the room and user; call it before Run.
func (c *Conn) LogWith(args ...any) { c.log = c.log.With(args...) }

// Log returns the connection's logger.
func (c *Conn) Log() *slog.Logger { return c.log }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// Queued returns how many messages wait in the send queue, and in the
// latest-value mailbox if there is one.
func (c *Conn) Queued() (queue, mailbox int) { return len(c.send), len(c.latest) }

// ErrClosedByServer is what a Handler returns after it called Close, to
// end the read pump: the connection is ending by the server's decision.
var ErrClosedByServer = errors.New("closed by server")

// Handler is called by the read pump for every message that arrives, in
// order: typ is websocket.TextMessage (valid UTF-8, already checked) or
// websocket.BinaryMessage. It must not block for long. It returns nil to
// go on, or, after calling Close to say how the connection ends,
// ErrClosedByServer.
type Handler func(typ int, data []byte) error

// Run serves the connection until it ends: writePump on a new goroutine,
// readPump on this one, which calls handle. Run returns after both pumps
// have, with the connection closed, and then calls Options.OnEnd.
func (c *Conn) Run(handle Handler) {
	if c.onEnd != nil {
		defer c.onEnd()
	}
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
		c.Close(0, "")
		c.log.Debug("peer closed", "code", closeErr.Code, "reason", closeErr.Text)
	case errors.Is(err, ErrClosedByServer):
		// close was called with the code to send.
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent 1009; record it for the log.
		c.Close(websocket.CloseMessageTooBig, shared.ReasonTooBig)
	case errors.As(err, &netErr):
		// Reset, closed by writePump, or silent past the read deadline:
		// there is no one left to send a close frame to, nor to drain.
		peerGone = true
		c.Close(0, "")
		if netErr.Timeout() {
			c.log.Info("client silent past the pong deadline", "pong_wait", c.cfg.PongWait)
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		peerGone = true
		c.Close(0, "") // the peer hung up without a close frame
	default:
		// A malformed frame: gorilla has sent 1002 already.
		c.Close(websocket.CloseProtocolError, "")
		c.log.Info("closing: protocol error", "err", err)
	}
	<-c.writeDone
	if c.closeReason == shared.ReasonTooSlow {
		c.stats.SlowConsumer() // here, once, however many enqueues found the queue full
	}
	switch {
	case peerClosed, peerGone:
	case errors.Is(err, ErrClosedByServer):
		c.awaitClose()
	default:
		c.linger()
	}
	c.ws.Close()
	c.log.Debug("connection ended", "code", c.closeCode, "reason", c.closeReason)
}

// readPump reads messages until the connection fails or the server closes
// it. Only readPump reads, and only it touches the read deadline.
func (c *Conn) readPump(handle Handler) error {
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
			return ErrClosedByServer
		default:
		}
		// gorilla does not check that text is UTF-8; RFC 6455 requires it.
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			c.log.Info("closing: invalid UTF-8 in a text frame")
			c.Close(websocket.CloseInvalidFramePayloadData, shared.ReasonInvalidUTF8)
			return ErrClosedByServer
		}
		if err := handle(typ, data); err != nil {
			return err
		}
	}
}

// writePump writes queued messages and pings until the client is closed,
// then writes the close frame. Only writePump writes.
func (c *Conn) writePump() {
	defer close(c.writeDone)
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case q := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
			err := c.ws.WritePreparedMessage(q.f.pm)
			c.sent(q.f)
			if err != nil {
				c.writeFailed(err)
				return
			}
			c.stats.Sent()
			c.stats.ObserveFanout(time.Since(q.at))
		case m := <-c.latest: // never ready when latest is nil
			c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
			if err := c.ws.WritePreparedMessage(m.pm); err != nil {
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
func (c *Conn) flush() {
	c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
	for {
		select {
		case q := <-c.send:
			err := c.ws.WritePreparedMessage(q.f.pm)
			c.sent(q.f)
			if err != nil {
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
func (c *Conn) writeFailed(err error) {
	c.log.Debug("write failed", "err", err)
	c.Close(0, "")
	c.ws.Close()
}

// writeClose sends the close frame, if one is due, and gives the peer
// CloseGrace to answer before hanging up.
func (c *Conn) writeClose() {
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
func (c *Conn) awaitClose() {
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
func (c *Conn) linger() {
	const maxLinger = 1 << 20
	nc := c.ws.UnderlyingConn()
	if err := nc.SetReadDeadline(time.Now().Add(c.cfg.CloseGrace)); err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(nc, maxLinger))
}
