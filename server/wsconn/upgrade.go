package wsconn

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/metrics"
	"wsplay/shared"
)

// Upgrade upgrades r with u, like u.Upgrade, for [New]. With batch set,
// a client that offers shared.SubprotocolBatch is told the server takes
// it, and its connection then sends runs of text messages as one frame.
//
// The connection's socket is wrapped: every byte it reads or writes from
// then on is counted into stats (which may be nil), frame headers and
// control frames included, the handshake's 101 response not; and its
// writes, gorilla's and the connection's own, are ordered, with nothing
// after a close frame.
func Upgrade(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request, batch bool, stats *metrics.Endpoint) (*websocket.Conn, error) {
	var header http.Header
	switch offered := websocket.Subprotocols(r); {
	case batch && slices.Contains(offered, shared.SubprotocolBatch):
		header = http.Header{"Sec-Websocket-Protocol": {shared.SubprotocolBatch}}
	case slices.Contains(offered, shared.SubprotocolPlain):
		header = http.Header{"Sec-Websocket-Protocol": {shared.SubprotocolPlain}}
	}
	counter := &byteCounter{ResponseWriter: w}
	// gorilla reads from the buffered reader Hijack hands it (see there)
	// only when its own read buffer size is unset.
	own := *u
	own.ReadBufferSize = 0
	ws, err := own.Upgrade(counter, r, header)
	if err != nil {
		return nil, err
	}
	if counter.conn != nil {
		counter.conn.stats = stats // before the pumps start: no lock needed
	}
	return ws, nil
}

// byteCounter is the ResponseWriter that Upgrade hands to the upgrader.
// When the upgrader hijacks the connection, byteCounter wraps it in a
// countingConn.
//
// gorilla/websocket v1.5.3 finds Hijack with a type assertion, so
// byteCounter implements it itself (Unwrap alone would not do).
type byteCounter struct {
	http.ResponseWriter
	conn *countingConn // set by Hijack
}

// Hijack hands gorilla the connection wrapped, and a buffered reader of
// readBufferSize bytes of the connection's own (net/http's is 4 KiB): the
// connection then knows when a frame waits in it (bufio.Reader.Buffered),
// which tells its reader whether it may stop reading.
func (b *byteCounter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(b.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	b.conn = &countingConn{Conn: nc}
	if brw.Reader.Buffered() > 0 {
		return b.conn, brw, nil // gorilla refuses it: the client sent data before the handshake's end
	}
	b.conn.br = bufio.NewReaderSize(b.conn, readBufferSize)
	b.conn.rc = pollable(nc)
	return b.conn, bufio.NewReadWriter(b.conn.br, brw.Writer), nil
}

// readBufferSize is what a connection holds to read frames: a frame's
// header goes through it, and a message's payload too when it is small;
// a large payload is read directly into the message buffer. It holds a
// whole control frame (131 bytes with its header and mask), which
// readControl needs, and is over the 256 bytes below which gorilla would
// allocate a reader of its own.
const readBufferSize = 320

func (b *byteCounter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// countingConn is a connection's socket. It counts the bytes read and
// written into stats (nil while the handshake's 101 response is
// written, so that is not counted), and orders the writes of the
// connection's writer (writeFrames) and gorilla's (Write: the handshake
// and control frames, each in one call): once a close frame has gone
// out, writeFrames refuses.
type countingConn struct {
	net.Conn
	stats *metrics.Endpoint
	br    *bufio.Reader   // what gorilla reads from, set by Hijack
	rc    syscall.RawConn // the socket, when the poller can watch it

	mu        sync.Mutex // held for each write
	closeSent bool
	deadline  time.Time // the write deadline last set
}

// errCloseSent is writeFrames' answer once a close frame has gone out.
var errCloseSent = errors.New("wsconn: close frame already sent")

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.stats.AddBytesIn(n)
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.Conn.Write(p)
	c.stats.AddBytesOut(n)
	if len(p) > 0 && p[0] == 0x80|websocket.CloseMessage { // final bit and opcode of a close frame
		c.closeSent = true
	}
	return n, err
}

// writeFrames writes the frames in iov in one go (writev on a TCP
// socket), unless a close frame has gone out already. The write must end
// within wait, give or take a tenth: setting a deadline costs more than
// a small write, so a deadline close enough to the one wanted is kept.
func (c *countingConn) writeFrames(iov [][]byte, wait time.Duration) error {
	return c.writeFramesAt(iov, time.Now(), wait)
}

// writeFramesAt is writeFrames with the clock read already: now.
func (c *countingConn) writeFramesAt(iov [][]byte, now time.Time, wait time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return errCloseSent
	}
	if want := now.Add(wait); !near(want, c.deadline, wait/10) {
		if err := c.Conn.SetWriteDeadline(want); err != nil {
			return err
		}
		c.deadline = want
	}
	var n int64
	var err error
	if len(iov) == 1 { // write(2) costs less than writev(2) of one
		var n1 int
		n1, err = c.Conn.Write(iov[0])
		n = int64(n1)
	} else {
		bufs := net.Buffers(iov)
		n, err = bufs.WriteTo(c.Conn)
	}
	c.stats.AddBytesOut(int(n))
	return err
}

// SetWriteDeadline is gorilla's, before each control frame it writes.
func (c *countingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

// near reports whether a and b are within slack of each other.
func near(a, b time.Time, slack time.Duration) bool {
	d := a.Sub(b)
	return d <= slack && d >= -slack
}
