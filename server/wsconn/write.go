package wsconn

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/metrics"
	"wsplay/shared"
)

// outgoing is a frame waiting in a send queue, with the time it was
// queued, for the fan-out latency (zero for a pong, which is not
// counted).
type outgoing struct {
	f  *Frame
	at int64 // monotonic nanoseconds (see since); 0 for none
}

// epoch is what queue times count from: time.Since(epoch) reads the
// monotonic clock, and an int64 keeps an outgoing at 16 bytes where a
// time.Time would make it 32 (a connection keeps its queue's array).
var epoch = time.Now()

// at is the time since returned n for.
func at(n int64) time.Time { return epoch.Add(time.Duration(n)) }

// since returns t as an outgoing's time; a zero t is no time.
func since(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(int64(t.Sub(epoch)), 1)
}

// Enqueue queues f for the client without ever blocking the caller. A
// full queue (Config.SendQueue messages or Config.SendQueueBytes bytes)
// means the client reads slower than messages arrive for it: it is
// closed with 1008 and f is dropped. It reports whether f was queued.
func (c *Conn) Enqueue(f *Frame) bool { return c.push(f, time.Now()) }

// EnqueueAt is Enqueue with the time to measure the fan-out latency from:
// a broadcast reads the clock once for all its recipients.
func (c *Conn) EnqueueAt(f *Frame, at time.Time) bool { return c.push(f, at) }

// push queues f, and starts a writer if none is running.
func (c *Conn) push(f *Frame, at time.Time) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	if !c.fits(f) {
		c.mu.Unlock()
		c.Close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return false
	}
	c.add(f, at)
	start := c.claim()
	c.mu.Unlock()
	if start {
		c.startWriter()
	}
	return true
}

// startWriter runs the writer that the caller claimed the write side
// for, on a goroutine of its own. (Writing on the caller's goroutine
// instead would serialise a broadcast's writes, and on loopback each
// write also pays for the receiving side: one room's writes would then
// share one core.)
//
// A client that takes batched frames is written at most once per
// BatchDelay: the first message after a quiet spell goes at once, and
// what follows gathers until BatchDelay after that write, to go in one
// write and, run by run, one frame. A quiet room then costs no latency,
// and a busy one costs one write per client per BatchDelay, not one per
// message.
//
// A connection that is closing does not wait: Close cuts a gather short
// (see there), and none starts once it has been called.
func (c *Conn) startWriter() {
	if c.batch && c.cfg.BatchDelay > 0 {
		if wait := time.Until(time.Unix(0, c.lastWrite.Load()).Add(c.cfg.BatchDelay)); wait > 0 {
			c.mu.Lock()
			defer c.mu.Unlock()
			switch {
			case c.closing:
				go c.drain()
			case c.gather == nil:
				c.gather = time.AfterFunc(wait, c.drain)
			default:
				c.gather.Reset(wait) // it has fired: the write side was free
			}
			return
		}
	}
	go c.drain()
}

// EnqueueWait is Enqueue for a producer that may wait: it blocks until f
// fits the queue, in messages and in bytes, or the client is closed, and
// reports whether f was queued. Only work done for this one connection
// may use it (such as sending its stored backlog); a producer that serves
// many connections uses Enqueue, so that one slow connection never holds
// it up.
func (c *Conn) EnqueueWait(f *Frame) bool {
	at := time.Now() // the fan-out latency includes the wait
	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return false
		}
		if c.fits(f) {
			c.add(f, at)
			start := c.claim()
			c.mu.Unlock()
			if start {
				c.startWriter()
			}
			return true
		}
		if c.room == nil {
			c.room = make(chan struct{}, 1)
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
		case <-c.Done():
			return false
		}
	}
}

// Reply sends f as the answer to a message the client sent; it is for
// the Handler, on Run's goroutine. When nothing is queued or being
// written, Reply writes f at once on this goroutine, with no hand-off to
// another: the reader reads the client's next message once its answer is
// on the wire, as a plain echo loop does. Otherwise f is queued, as by
// Enqueue. It reports whether f was written or queued.
func (c *Conn) Reply(f *Frame) bool {
	if !c.startReply(f.Size()) {
		return c.Enqueue(f)
	}
	c.replyNow(f)
	return true
}

// ReplyMessage is Reply for a message that the handler holds in data,
// which may be the reader's buffer, valid only until the handler
// returns: while nothing is queued or being written, data is written at
// once from a pooled buffer, and nothing is allocated for it (an echo's
// answer, say); otherwise it is copied into a Frame and queued, as by
// Enqueue. typ is websocket.TextMessage or websocket.BinaryMessage; a
// text message must be valid UTF-8 (a message the reader handed over
// is).
func (c *Conn) ReplyMessage(typ int, data []byte) error {
	if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
		return errors.New("wsconn: a message frame is text or binary")
	}
	if !c.startReply(len(data)) {
		c.Enqueue(newFrame(byte(typ), data))
		return nil
	}
	bp := wireBuffers.Get().(*[]byte)
	wire := append(appendHeader((*bp)[:0], byte(typ), len(data)), data...)
	f := Frame{wire: wire, hdr: uint8(len(wire) - len(data)), op: byte(typ)}
	c.replyNow(&f)
	if cap(wire) <= maxPooledWire {
		*bp = wire[:0]
		wireBuffers.Put(bp)
	}
	return nil
}

// wireBuffers hold ReplyMessage's frames while they are written.
var wireBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledWire is the largest of ReplyMessage's buffers kept for
// another answer.
const maxPooledWire = 64 << 10

// startReply takes the write side for an answer of size bytes and
// reports whether it did: not while something is queued or being
// written, or once the connection is closing.
func (c *Conn) startReply(size int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.writing || c.delayed() {
		return false
	}
	c.writing = true
	c.queued++
	c.queuedBytes += size
	return true
}

// replyNow writes f on the calling goroutine, which startReply gave the
// write side, and gives it back, or hands it to a drain for what was
// queued meanwhile. f is not kept once it returns.
func (c *Conn) replyNow(f *Frame) {
	// The time the message arrived (the reader's clock reading) is the
	// answer's, for its latency and its write deadline.
	arrived := at(c.readAt)
	if c.readAt == 0 {
		arrived = time.Now() // not from a Handler
	}
	one := [1]outgoing{{f, since(arrived)}}
	iov, pooled := c.frames(one[:], nil)
	err := c.nc.writeFramesAt(iov, arrived, c.cfg.WriteWait)
	release(iov, pooled)
	c.wrote(one[:], nil, err)

	c.mu.Lock()
	c.settle(one[:])
	handOff := len(c.queue) > 0 || c.latest != nil || c.closing || c.delayed()
	if !handOff {
		c.writing = false
	}
	c.mu.Unlock()
	if handOff {
		go c.drain() // what arrived meanwhile, or the close sequence
	}
}

// Offer puts a frame in the connection's mailbox, a second source of
// messages with room for one, which replaces a frame not yet written
// instead of queueing behind it: a slow reader gets the newest message
// and never a backlog (the dashboard's viewers use it). The mailbox is
// not bounded by the queue's limits; a client that takes nothing is
// dropped by the write timeout. next is called, under the connection's
// lock, with whether a frame not yet written is being replaced, and
// returns the frame to put; Offer reports whether one was replaced.
func (c *Conn) Offer(next func(replacing bool) *Frame) (replaced bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	replaced = c.latest != nil
	c.latest = next(replaced)
	if c.faults != nil {
		c.faults.offered = since(time.Now())
	}
	start := c.claim()
	c.mu.Unlock()
	if start {
		c.startWriter()
	}
	return replaced
}

// Queued returns how many messages wait in the send queue (or are being
// written), and in the mailbox of Offer.
func (c *Conn) Queued() (queue, mailbox int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest != nil {
		mailbox = 1
	}
	return c.queued, mailbox
}

// fits reports whether f fits the queue's bounds. A frame larger than the
// byte budget fits an empty queue, so that no message is too big to send
// at all. Called with mu held.
func (c *Conn) fits(f *Frame) bool {
	if c.queued >= c.cfg.SendQueue {
		return false
	}
	if c.faults != nil && c.faults.stall != 0 && c.queued >= c.faults.stallQueue {
		return false
	}
	return c.queuedBytes == 0 || c.queuedBytes+f.Size() <= c.cfg.SendQueueBytes
}

// add appends f to the queue. Called with mu held.
func (c *Conn) add(f *Frame, at time.Time) {
	c.queue = append(c.queue, outgoing{f, since(at)})
	c.queued++
	c.queuedBytes += f.Size()
}

// claim takes the write side if nobody owns it, and reports whether it
// did; the caller must then run drain. Called with mu held.
func (c *Conn) claim() bool {
	if c.writing {
		return false
	}
	c.writing = true
	return true
}

// settle gives back the budget of frames that were written (or dropped),
// and wakes a producer waiting for room. Called with mu held.
func (c *Conn) settle(done []outgoing) {
	c.queued -= len(done)
	for _, o := range done {
		c.queuedBytes -= o.f.Size()
	}
	select {
	case c.room <- struct{}{}:
	default:
	}
}

// take removes what is queued and in the mailbox, for the owner of the
// write side to write, and says whether to drop it instead: a client
// closed as too slow is not sent its backlog; anyone else closed for a
// reason first gets the messages that explain it (error messages before
// a 1008, say). Called with mu held.
func (c *Conn) take() (batch []outgoing, latest *Frame, drop bool) {
	batch, latest = c.queue, c.latest
	c.queue, c.latest = nil, nil
	return batch, latest, c.failed || c.closing && c.closeReason == shared.ReasonTooSlow
}

// done gives back what a write took. Called with mu held.
func (c *Conn) doneWith(batch []outgoing) {
	c.settle(batch)
	if c.queue == nil && cap(batch) <= 16 {
		clear(batch) // keep a small queue's array, not its frames
		c.queue = batch[:0]
	}
}

// drain is the writer goroutine: it owns the write side until the queue
// and the mailbox are empty, writing everything they hold at each turn
// in one system call, waiting for the socket as needed, and then ends,
// or, once the connection is closing, runs the close sequence. Only the
// goroutine that claimed the write side runs it.
func (c *Conn) drain() {
	if c.batch {
		c.lastWrite.Store(time.Now().UnixNano())
	}
	for {
		c.mu.Lock()
		if c.stalled() {
			c.mu.Unlock()
			return // the stall holds the write side until it ends
		}
		batch, latest, drop := c.take()
		wait := c.latencyWait(batch, latest)
		if len(batch) == 0 && latest == nil {
			if c.closing {
				c.mu.Unlock()
				c.finish() // the write side stays claimed: nothing is written after it
				return
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if wait > 0 && !drop {
			c.delay(wait)
		}
		if !drop {
			iov, pooled := c.frames(batch, latest)
			err := c.nc.writeFrames(iov, c.cfg.WriteWait)
			release(iov, pooled)
			c.wrote(batch, latest, err)
		}
		c.mu.Lock()
		c.doneWith(batch)
		c.mu.Unlock()
	}
}

// maxBatch bounds the payload of a frame that joins several messages,
// for a client that took shared.SubprotocolBatch: shared.MaxFrame, the
// bound of every frame the server sends.
const maxBatch = shared.MaxFrame

var newline = []byte{'\n'}

// iovecs holds the slices of a write between uses.
var iovecs = sync.Pool{New: func() any { s := make([][]byte, 0, 16); return &s }}

// release gives back the slices frames returned.
func release(iov [][]byte, pooled *[][]byte) {
	clear(iov)
	*pooled = iov[:0]
	iovecs.Put(pooled)
}

// frames lays out batch, then latest when not nil, as the byte slices of
// one write. For a client that took shared.SubprotocolBatch, each run of
// text messages goes as one frame, one message per line, up to maxBatch
// bytes; everyone else gets a frame per message. The slices are the
// frames' own bytes, never copied; give them back with release.
func (c *Conn) frames(batch []outgoing, latest *Frame) (iov [][]byte, pooled *[][]byte) {
	pooled = iovecs.Get().(*[][]byte)
	iov = (*pooled)[:0]
	var headers []byte // of the joined runs; each joins two messages or more
	for i := 0; i < len(batch); {
		f := batch[i].f
		j, size := i+1, f.Size()
		for c.batch && f.op == websocket.TextMessage && j < len(batch) &&
			batch[j].f.op == websocket.TextMessage && size+1+batch[j].f.Size() <= maxBatch {
			size += 1 + batch[j].f.Size()
			j++
		}
		if j == i+1 {
			iov = append(iov, f.wire)
		} else {
			if headers == nil {
				headers = make([]byte, 0, maxHeader*(len(batch)/2))
			}
			start := len(headers)
			headers = appendHeader(headers, websocket.TextMessage, size) // within capacity: never moves
			iov = append(iov, headers[start:])
			for k := i; k < j; k++ {
				if k > i {
					iov = append(iov, newline)
				}
				iov = append(iov, batch[k].f.payload())
			}
		}
		i = j
	}
	if latest != nil {
		iov = append(iov, latest.wire)
	}
	return iov, pooled
}

// wrote records the outcome of writing batch and latest: the messages
// counted, or the write's failure.
func (c *Conn) wrote(batch []outgoing, latest *Frame, err error) {
	switch {
	case errors.Is(err, errCloseSent):
		// gorilla answered the peer's close, or refused its input, while
		// this batch waited: nothing more may go out.
		c.mu.Lock()
		c.failed = true
		c.mu.Unlock()
		return
	case err != nil:
		var ne net.Error
		c.mu.Lock()
		c.failed = true
		// A client that took nothing for WriteWait is a slow consumer,
		// as much as one whose queue filled (and may be one already).
		slow := errors.As(err, &ne) && ne.Timeout() && c.closeReason != shared.ReasonTooSlow
		c.mu.Unlock()
		if slow {
			c.stats.SlowConsumer()
		}
		c.debug("write failed", "err", err)
		// Closing the socket makes the read fail, and the connection end.
		c.Close(0, "")
		c.hangup()
		return
	}
	var now int64
	var t metrics.Tally // counted once for the write: the counters are shared
	for _, o := range batch {
		if o.f.op != websocket.TextMessage && o.f.op != websocket.BinaryMessage {
			continue
		}
		t.Sent()
		if o.at != 0 {
			if now == 0 {
				now = since(time.Now())
			}
			t.ObserveFanout(time.Duration(now - o.at))
		}
	}
	if latest != nil {
		t.Sent()
	}
	c.stats.AddTally(&t)
}

// finish is the end of the close sequence: it sends the close frame, if
// one is due, and gives the peer CloseGrace to answer before hanging up.
// The close frame goes through gorilla, so that gorilla knows it is sent
// and does not send another when the peer answers.
func (c *Conn) finish() {
	defer close(c.writeDone)
	c.mu.Lock()
	failed := c.failed
	c.mu.Unlock()
	if failed || c.closeCode == 0 {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeReason)
	err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteWait))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		c.hangup()
		return
	}
	t := time.NewTimer(c.cfg.CloseGrace)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
		c.hangup() // the peer did not answer; the read now fails
	}
}
