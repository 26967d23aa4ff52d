package wsconn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"wsplay/shared"
)

// idleAfter is how long a reading goroutine waits for the client's next
// message before it gives itself up and the poller watches the socket
// instead.
const idleAfter = time.Second

// readLoop is the connection's reading goroutine: it reads and handles
// messages until the client has been quiet for idleAfter (then it parks
// the connection and ends) or the reading fails (then it ends the
// connection). One runs at a time: a new one starts only when the parked
// state is cleared, by the poller or by hangup.
func (c *Conn) readLoop() {
	c.growReader()
	// One clock reading per wait for the client serves the deadlines, the
	// time the client was last heard and the answer's (Reply): reading
	// the clock is a tenth of what echoing a small message costs.
	now := time.Now()
	for {
		if c.br.Buffered() == 0 {
			if c.rc != nil {
				// Wait for the next frame in the read buffer rather than
				// in gorilla, which takes any read error as the end: a
				// timeout here leaves the buffer ready for later.
				c.readWithin(now, idleAfter)
				// errors.Is, not errors.As into a net.Error: that
				// variable would escape, an allocation per message.
				if _, err := c.br.Peek(1); err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.park() {
					return
				}
			}
			now = time.Now()
		}
		// A message, once begun, must arrive within PongWait; one that
		// is in the buffer already has.
		if !c.frameBuffered() {
			c.readWithin(now, c.cfg.PongWait)
		}
		if c.readControl(now) {
			continue
		}
		if err := c.readMessage(now); err != nil {
			c.end(err)
			return
		}
	}
}

// readWithin makes sure the socket's read deadline is d from now, give
// or take a tenth: setting a deadline costs more than a small read, so a
// deadline close enough to the one wanted is kept.
func (c *Conn) readWithin(now time.Time, d time.Duration) {
	if want := now.Add(d); c.readDeadline == 0 || !near(want, at(c.readDeadline), d/10) {
		c.nc.SetReadDeadline(want)
		c.readDeadline = since(want)
	}
}

// frameBuffered reports whether a whole final frame is in the read
// buffer, so that reading it makes no system call.
func (c *Conn) frameBuffered() bool {
	h, _ := c.br.Peek(min(c.br.Buffered(), 2+8+4))
	if len(h) < 2 || h[0]&0x80 == 0 { // a fragment: more frames follow
		return false
	}
	n, hdr := int(h[1]&0x7f), 2
	switch n {
	case 126:
		if len(h) < 4 {
			return false
		}
		n, hdr = int(binary.BigEndian.Uint16(h[2:])), 4
	case 127:
		return false // 64 KiB or more: never in the read buffer
	}
	if h[1]&0x80 != 0 {
		hdr += 4 // the mask key
	}
	return c.br.Buffered() >= hdr+n
}

// readControl reads a ping or a pong at the head of the read buffer,
// and reports whether it did. gorilla would read them too, inside its
// wait for the next message, where the reader could not stop: a client
// that only answers pings would then keep a goroutine. Anything else,
// including a malformed control frame, is left to gorilla, which answers
// it properly. Between messages gorilla expects a frame header, so taking
// a whole control frame out of the buffer keeps it in step.
func (c *Conn) readControl(now time.Time) bool {
	h, err := c.br.Peek(2)
	if err != nil {
		return false
	}
	const fin, masked = 0x80, 0x80
	op, n := int(h[0]&0x0f), int(h[1]&0x7f)
	if (op != websocket.PingMessage && op != websocket.PongMessage) || h[0] != fin|byte(op) || h[1]&masked == 0 || n > 125 {
		return false
	}
	f, err := c.br.Peek(2 + 4 + n) // header, mask key, payload
	if err != nil {
		return false
	}
	if op == websocket.PingMessage {
		key, data := f[2:6], make([]byte, n)
		for i := range data {
			data[i] = f[6+i] ^ key[i%4]
		}
		c.push(newFrame(websocket.PongMessage, data), time.Time{})
	}
	c.br.Discard(len(f))
	c.lastHeard.Store(now.UnixNano())
	return true
}

// readMessage reads one message, which began to arrive at now, and hands
// it to the handler.
func (c *Conn) readMessage(now time.Time) error {
	typ, msg, err := c.ws.NextReader()
	if err != nil {
		return err
	}
	if c.rc == nil {
		now = time.Now() // without the poller, the wait for the client was in NextReader
	}
	buf := readBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			readBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(msg); err != nil { // at most ReadLimit: gorilla stops it there
		return err
	}
	data := buf.Bytes()
	c.lastHeard.Store(now.UnixNano())
	c.readAt = since(now)
	c.stats.Received()
	if c.closed.Load() {
		return ErrClosedByServer
	}
	if c.faults != nil && c.dropIncoming() {
		c.debug("fault: dropped a client message")
		return nil
	}
	// gorilla does not check that text is UTF-8; RFC 6455 requires it.
	if typ == websocket.TextMessage && !utf8.Valid(data) {
		c.Log().Info("closing: invalid UTF-8 in a text frame")
		c.Close(websocket.CloseInvalidFramePayloadData, shared.ReasonInvalidUTF8)
		return ErrClosedByServer
	}
	return c.handle(typ, data)
}

// readBuffers hold the messages being handled: a connection holds one
// only while a message is read and handled, not while it waits.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest read buffer kept for another message.
const maxPooledBuffer = 128 << 10

// park hands the socket to the poller, for the calling reader to end,
// and reports whether it did. When it reports false (the socket cannot be
// watched, or is closed already), the caller reads on.
func (c *Conn) park() bool {
	if c.rc == nil {
		return false
	}
	c.shrinkReader() // before parked is set: once armed, a new reader may start at once
	c.mu.Lock()
	c.parked = true
	c.mu.Unlock()
	if err := arm(c); err != nil {
		if !c.unpark() {
			return true // hangup cleared it meanwhile and started a reader
		}
		c.growReader()
		return false
	}
	return true
}

// A parked connection holds no read buffer of its own: nothing is in it
// while the poller watches the socket. shrinkReader swaps the buffered
// reader's contents (gorilla holds the *bufio.Reader itself, which stays
// the same) for a reader with bufio's smallest buffer, and growReader
// swaps a full one back in when a reader starts. Both are called by the
// connection's reading goroutine, the only one that touches the reader,
// and move readers between pools, so that neither allocates.
var (
	fullReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}
	tinyReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16) }}
)

func (c *Conn) shrinkReader() {
	if c.br.Size() != readBufferSize || c.br.Buffered() > 0 {
		return
	}
	t := tinyReaders.Get().(*bufio.Reader)
	t.Reset(c.nc)
	*t, *c.br = *c.br, *t
	t.Reset(nil)
	fullReaders.Put(t)
}

func (c *Conn) growReader() {
	if c.br.Size() == readBufferSize {
		return
	}
	f := fullReaders.Get().(*bufio.Reader)
	f.Reset(c.nc)
	*f, *c.br = *c.br, *f
	f.Reset(nil)
	tinyReaders.Put(f)
}

// unpark clears the parked state and reports whether it was set: the
// caller must then start a reader.
func (c *Conn) unpark() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.parked {
		return false
	}
	c.parked = false
	return true
}
