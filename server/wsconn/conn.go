// Package wsconn is one WebSocket connection of the server: its reads,
// its send queue and the writes that drain it, its close sequence, per
// connection message rate limits, and the count of its bytes on the wire.
//
// What a connection costs is what it holds while it waits, and most
// connections wait most of the time. So a connection waiting for its
// client holds no goroutine and no message buffer: only its state, a
// 16-byte read buffer and a timer (its 320-byte read buffer goes back to
// a pool while it waits, and its log attributes, Done channel and
// Config are made or shared only when needed).
//
// # Reading
//
// gorilla/websocket does the handshake and the reading. [Conn.Start]
// returns at once (the HTTP handler returns too, and net/http releases
// what it held for the request: buffers of 8 KiB and more, and the stack
// the handshake grew). The connection's socket is then watched by one
// epoll instance for the whole process (Linux); when the client sends, a
// goroutine starts, reads and handles what arrived, and goes on reading
// while the client keeps talking. After a second of quiet it gives its
// goroutine up, and the socket is watched again. Each message is read
// into a pooled buffer, checked (text must be UTF-8) and handed to the
// endpoint's [Handler]. Where there is no epoll (other systems, or a
// socket that is not plain TCP), a goroutine reads for the connection's
// whole life, as gorilla's examples do.
//
// # Writing
//
// Every message a connection sends is a [Frame], encoded once — header
// and payload in one slice — and shared by every recipient of a
// broadcast. Anyone may queue a frame with [Conn.Enqueue]; the queue is a
// slice that grows with need and is bounded in messages and in bytes
// ([Config]). A client whose queue would pass either bound reads slower
// than its messages arrive: it is closed with 1008 "too slow", and the
// producer (a room serving thousands) never waits for it. A write that
// does not finish within WriteWait drops the client too.
//
// One goroutine at a time writes a connection: the one that owns its
// write side. There is no writer goroutine while there is nothing to
// write. The producer that queues into an idle connection starts one;
// it writes everything queued, in one system call (net.Buffers, so
// writev), and ends once the queue is empty. A reader answering its own
// client ([Conn.Reply]; [Conn.ReplyMessage], the echo, from its own
// buffer) writes on its own goroutine when the connection is idle, with
// no hand-off and nothing allocated. Batching is what keeps a
// busy server cheap: a connection that fell behind catches up with one
// write for its whole backlog instead of one per message, and a client
// that offered the wsplay-batch subprotocol (see package shared) gets
// runs of text messages in one frame, one JSON object per line. Such a
// client is written at most once per BatchDelay (200 ms): the first
// message after a quiet spell goes at once, what follows gathers for the
// next write. A busy room then costs each of its clients one write and
// one frame per BatchDelay instead of one per message, which is what
// halves the CPU of a 5,000-member room; a client that did not offer the
// subprotocol always gets one frame per message, and no delay.
//
// The writes bypass gorilla's writer, which copies every message into
// its buffer and makes a system call per message. gorilla still writes
// the control frames it answers on the reading side (a close reply, 1002
// for a malformed frame, 1009 for an oversized one); those and the
// connection's own writes all go through one [net.Conn] wrapper (see
// Upgrade), which orders them and, once a close frame is out, refuses
// anything after it, as RFC 6455 requires. A client's pings are answered
// through the queue, in order.
//
// A timer per connection queues a ping every PingInterval and drops a
// client that was silent (no message, no pong) for PongWait.
//
// # Closing
//
// [Conn.Close] records the close code; whoever owns the write side then
// writes what is queued (except for a client too slow to take it), the
// close frame, waits CloseGrace for the peer's answer and hangs up; the
// read fails, and the connection ends: Options.OnEnd, then the function
// given to Start.
//
// Timeouts are in [Config], whose zero value is ready to use.
package wsconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/metrics"
	"wsplay/shared"
)

// Conn is one WebSocket connection. Its reads happen on one goroutine at
// a time, and its write side belongs to one goroutine at a time (see the
// package doc). Every method may be called from any goroutine.
//
// Teardown is a chain:
//
//  1. Someone calls Close(code, reason): the peer sent bad input, its queue
//     filled, the server is shutting down, or the read ended. The first call
//     records the code and closes Done; later calls do nothing.
//  2. The writer writes what is queued, then the close frame, waits up to
//     CloseGrace for the reader to see the peer's answer, and hangs up.
//  3. The read fails, and the connection ends.
type Conn struct {
	ws      *websocket.Conn
	nc      *countingConn // ws's socket: the writer writes frames on it
	br      *bufio.Reader // what gorilla reads from: its Buffered says whether a frame waits
	rc      syscall.RawConn
	cfg     *Config           // shared by the connections of one Config: see sharedConfig
	log     *slog.Logger      // without the connection's attributes: see Log
	logArgs func() []any      // Options.LogArgs, then LogWith's; nil for none
	stats   *metrics.Endpoint // nil counts nothing
	onEnd   func()            // called once the connection has ended; may be nil
	batch   bool              // the client took shared.SubprotocolBatch

	// Set by Start.
	handle Handler
	after  func()

	// lastHeard is when the client last sent a message or a pong, in
	// Unix nanoseconds; the ping timer drops it once PongWait has passed.
	lastHeard atomic.Int64
	// pollID is the connection's key in the poller, 0 until it parks
	// there. Touched only by the reading goroutine and the poller's lock.
	pollID uint64
	// readDeadline is the read deadline last set, and readAt when the
	// message being handled arrived, as since returns them (0: none);
	// only the reading goroutine touches them.
	readDeadline int64
	readAt       int64

	mu sync.Mutex
	// queue is what waits to be written, oldest first; queued and
	// queuedBytes count it with what is being written, against the
	// bounds of Config.
	queue       []outgoing
	queued      int
	queuedBytes int
	latest      *Frame // the Offer mailbox; nil when empty
	// writing is true while a goroutine owns the write side; it stays
	// true once the close sequence has begun.
	writing bool
	closing bool // Close was called; done is closed
	// failed is set by the owner of the write side when a write failed;
	// the rest of the queue is then dropped.
	failed bool
	// parked is true while no goroutine reads: the poller watches the
	// socket, and whoever clears parked starts the next reader.
	parked   bool
	room     chan struct{} // a token after each write, for EnqueueWait; made by its first wait
	ping     *time.Timer   // queues the next ping; set by Start
	lastPing int64         // when the last ping was queued, as since returns it
	// faults are the faults injected at the client's request (see
	// fault.go); nil for every connection that asked none. Set only from
	// the Handler, so that the reading goroutine may read it unlocked.
	faults *faults

	// Batched clients only: when the writer last began, in Unix
	// nanoseconds, and the timer that starts it BatchDelay after that
	// (made on first use; set under mu by the owner of the write side,
	// and stopped by Close).
	lastWrite atomic.Int64
	gather    *time.Timer

	closeCode   int // set before done is closed; 0 means no frame is sent
	closeReason string
	done        chan struct{} // closed by the first Close; made by the first Done
	closed      atomic.Bool   // set by the first Close, for the reader to see without the lock

	// Made by the first Close, since only a closing connection waits for
	// them.
	readDone  chan struct{} // closed when the reading has ended
	writeDone chan struct{} // closed when the close sequence is over
}

// Options are what a Conn is given besides its socket and Config. Every
// field may be left zero.
type Options struct {
	// Log receives the connection's log lines: closes at Debug, client
	// misbehaviour at Info. Default: discarded.
	Log *slog.Logger
	// LogArgs returns attributes for every line the connection logs, as
	// for slog.Logger.With. It is called when a line is logged, so that
	// a connection that logs nothing holds neither a logger nor its
	// attributes of its own, only this function.
	LogArgs func() []any
	// Stats counts the connection's messages and fan-out latency (its
	// bytes are counted by Upgrade). Default: nothing is counted.
	Stats *metrics.Endpoint
	// OnEnd is called once, when the connection has ended and its socket
	// is closed. The admission gate uses it to forget the connection.
	OnEnd func()
}

// New wraps ws, a connection just upgraded by [Upgrade], for Start (or
// Run). The caller must start it exactly once, even a connection it
// closes at once (Close, then Start: the close frame goes out and the
// socket is released).
func New(ws *websocket.Conn, cfg Config, opts Options) *Conn {
	nc, ok := ws.UnderlyingConn().(*countingConn)
	if !ok || nc.br == nil {
		panic("wsconn.New: the connection must come from wsconn.Upgrade")
	}
	cfg = cfg.WithDefaults()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		ws:      ws,
		nc:      nc,
		br:      nc.br,
		rc:      nc.rc,
		cfg:     sharedConfig(cfg),
		log:     log,
		logArgs: opts.LogArgs,
		stats:   opts.Stats,
		onEnd:   opts.OnEnd,
		batch:   ws.Subprotocol() == shared.SubprotocolBatch,
	}
	return c
}

// configs holds one copy of each Config the connections were made with:
// a connection points to its copy instead of holding its own, 64 bytes
// that an idle connection would otherwise carry. A process has a few.
var configs sync.Map // Config → *Config

// sharedConfig returns the shared copy of cfg.
func sharedConfig(cfg Config) *Config {
	if p, ok := configs.Load(cfg); ok {
		return p.(*Config)
	}
	p, _ := configs.LoadOrStore(cfg, &cfg)
	return p.(*Config)
}

// Batched reports whether the client offered shared.SubprotocolBatch and
// the server confirmed it: it may receive several text messages in one
// frame, one per line.
func (c *Conn) Batched() bool { return c.batch }

// Close asks for the connection to end with the given close code and
// reason. Only the first call counts; it is safe from any goroutine. Code 0
// ends the connection without a close frame (the peer is gone already).
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	c.readDone, c.writeDone = make(chan struct{}), make(chan struct{})
	c.closed.Store(true)
	if c.done != nil {
		close(c.done)
	}
	if reason == shared.ReasonTooSlow {
		c.stats.SlowConsumer() // once, however many enqueues find the queue full
	}
	start := c.claim()
	if c.releaseStall() {
		start = true // a stall held the write side: the close sequence takes it
	}
	if !start && c.gather != nil && c.gather.Stop() {
		// The writer was waiting to gather a batch: the close sequence
		// does not wait for it. Stop reporting true means the drain it
		// would have started never will, so this one owns the write side.
		start = true
	}
	c.mu.Unlock()
	if start {
		go c.drain()
	}
}

// Done is closed once the connection is ending: Close was called, by
// anyone, for any reason. (The channel is made by the first call: a
// connection nobody waits for holds none.)
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.closing {
			close(c.done)
		}
	}
	return c.done
}

// CloseStatus returns the close code and reason the connection ended
// with, once Done is closed: code 0 means no close frame was sent (the
// peer closed, or was gone).
func (c *Conn) CloseStatus() (code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		return 0, ""
	}
	return c.closeCode, c.closeReason
}

// Hangup closes the socket at once, without a close frame: for a
// shutdown whose grace period is over. The connection then ends.
func (c *Conn) Hangup() {
	c.Close(0, "")
	c.hangup()
}

// hangup closes the socket. The read then fails; if no goroutine was
// reading (the poller does not report a closed socket), one starts, to
// see it fail and end the connection.
func (c *Conn) hangup() {
	c.ws.Close()
	if c.unpark() {
		go c.readLoop()
	}
}

// LogWith adds the attributes args returns to every line the connection
// logs, after those of Options.LogArgs and earlier calls: the room and
// the user, say. Like Options.LogArgs, args is called only when a line
// is logged. Call it before Start.
func (c *Conn) LogWith(args func() []any) {
	if before := c.logArgs; before != nil {
		c.logArgs = func() []any { return append(before(), args()...) }
		return
	}
	c.logArgs = args
}

// Log returns the connection's logger, with its attributes. It is made
// for each call: keep it while it is used, not for the connection's life.
func (c *Conn) Log() *slog.Logger {
	if c.logArgs == nil {
		return c.log
	}
	return c.log.With(c.logArgs()...)
}

// debug logs at Debug level, building the connection's logger only when
// that level is on: every connection logs its end, and most servers run
// at Info.
func (c *Conn) debug(msg string, args ...any) {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.Log().Debug(msg, args...)
	}
}

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// ErrClosedByServer is what a Handler returns after it called Close, to
// end the reading: the connection is ending by the server's decision.
var ErrClosedByServer = errors.New("closed by server")

// Handler is called for every message that arrives, in order, on the
// connection's reading goroutine: typ is websocket.TextMessage (valid
// UTF-8, already checked) or websocket.BinaryMessage. data is valid only
// until the handler returns (its buffer serves the next message): what
// must last is copied, as decoding or NewFrame do. The handler must not
// block for long. It returns nil to go on, or, after calling Close to say
// how the connection ends, ErrClosedByServer.
type Handler func(typ int, data []byte) error

// Start serves the connection: from now on every message that arrives
// goes to handle, and a ping goes out every PingInterval. It returns at
// once. When the connection has ended (closed, its close sequence over,
// its socket released), Options.OnEnd is called, then after (if not nil).
func (c *Conn) Start(handle Handler, after func()) {
	c.handle, c.after = handle, after
	c.ws.SetReadLimit(c.cfg.ReadLimit)
	c.ws.SetPongHandler(func(string) error {
		c.lastHeard.Store(time.Now().UnixNano())
		return nil
	})
	// A client's ping is answered through the queue, in order with the
	// rest and within its bounds: a client that pings without reading
	// is too slow like any other.
	c.ws.SetPingHandler(func(data string) error {
		c.push(newFrame(websocket.PongMessage, []byte(data)), time.Time{})
		return nil
	})
	now := time.Now()
	c.lastHeard.Store(now.UnixNano())
	c.mu.Lock()
	c.lastPing = since(now)
	c.ping = time.AfterFunc(c.cfg.PingInterval, c.tick)
	c.mu.Unlock()
	if c.br.Buffered() > 0 || !c.park() {
		go c.readLoop()
	}
}

// Run is Start, then a wait for the end: it returns once the connection
// has ended and Options.OnEnd has been called.
func (c *Conn) Run(handle Handler) {
	ended := make(chan struct{})
	c.Start(handle, func() { close(ended) })
	<-ended
}

// tick is the ping timer: it drops a client silent for PongWait, and
// queues a ping every PingInterval.
func (c *Conn) tick() {
	now := time.Now()
	deadline := time.Unix(0, c.lastHeard.Load()).Add(c.cfg.PongWait)
	if !now.Before(deadline) {
		c.Log().Info("client silent past the pong deadline", "pong_wait", c.cfg.PongWait)
		c.Close(0, "")
		c.hangup()
		return
	}
	c.mu.Lock()
	due := at(c.lastPing).Add(c.cfg.PingInterval)
	c.mu.Unlock()
	if !now.Before(due) {
		if !c.push(pingFrame, time.Time{}) {
			return // closing: no more pings
		}
		c.mu.Lock()
		c.lastPing = since(now)
		c.mu.Unlock()
		due = now.Add(c.cfg.PingInterval)
	}
	c.mu.Lock()
	if !c.closing {
		c.ping.Reset(min(due.Sub(now), deadline.Sub(now)))
	}
	c.mu.Unlock()
}

// end finishes the connection once the reading has failed with err: it
// closes it with the code err calls for, waits for the close sequence,
// releases the socket and calls the end functions. It runs on the
// reading goroutine, which is the last.
func (c *Conn) end(err error) {
	peerClosed, peerGone := false, false
	var closeErr *websocket.CloseError
	var netErr net.Error
	switch {
	case errors.As(err, &closeErr):
		// The peer closed and gorilla has already answered its close frame.
		peerClosed = true
		c.Close(0, "")
		c.debug("peer closed", "code", closeErr.Code, "reason", closeErr.Text)
	case errors.Is(err, ErrClosedByServer):
		// Close was called with the code to send.
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent 1009; record it for the log.
		c.Close(websocket.CloseMessageTooBig, shared.ReasonTooBig)
	case errors.As(err, &netErr):
		// Reset, hung up on by the server, or a message that did not
		// arrive within PongWait: there is no one left to send a close
		// frame to, nor to drain.
		peerGone = true
		c.Close(0, "")
		if netErr.Timeout() {
			c.Log().Info("client silent past the pong deadline", "pong_wait", c.cfg.PongWait)
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		peerGone = true
		c.Close(0, "") // the peer hung up without a close frame
	default:
		// A malformed frame: gorilla has sent 1002 already.
		c.Close(websocket.CloseProtocolError, "")
		c.Log().Info("closing: protocol error", "err", err)
	}
	// Closed by now, so a ping being queued as the timer stops is
	// refused and does not set the timer again.
	c.mu.Lock()
	c.ping.Stop()
	readDone, writeDone := c.readDone, c.writeDone
	c.mu.Unlock()
	close(readDone)
	<-writeDone
	switch {
	case peerClosed, peerGone:
	case errors.Is(err, ErrClosedByServer):
		c.awaitClose()
	default:
		c.linger()
	}
	c.ws.Close()
	forget(c)
	c.debug("connection ended", "code", c.closeCode, "reason", c.closeReason)
	if c.onEnd != nil {
		c.onEnd()
	}
	if c.after != nil {
		c.after()
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
	if err := c.nc.SetReadDeadline(time.Now().Add(c.cfg.CloseGrace)); err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(c.br, maxLinger))
}
