package wsconn

import (
	"strconv"
	"strings"
	"time"

	"wsplay/shared"
)

// Faults a teaching server injects into one connection at its client's
// request (see shared.TypeFault). A connection nobody asked a fault of
// holds only a nil pointer; everything here is bounded, so that a fault
// costs the server no more than a normal connection may.

// The bounds of the faults.
const (
	// MaxLatency bounds InjectLatency.
	MaxLatency = 5 * time.Second
	// MaxDrop bounds InjectDrop.
	MaxDrop = 100
	// DefaultStallQueue is the send queue bound of a stalled connection
	// when InjectStall is given 0.
	DefaultStallQueue = 16
	// MaxStall is how long a stall lasts at most: a connection whose
	// queue did not fill by then is written to again, as if its client
	// read again.
	MaxStall = 30 * time.Second
)

// A Fault is one fault a client asked of its own connection, as
// ParseFault reads it from the Content of a shared.TypeFault message.
type Fault struct {
	// Name is one of shared's Fault constants.
	Name string
	// N is the parameter, with the fault's default when none was given:
	// milliseconds for latency, frames for drop, the queue's bound for
	// stall_reads (0: DefaultStallQueue), the close code for close.
	N int
}

// FaultsOff is the refusal of every fault on an endpoint whose server
// was not started with -playground-faults.
func FaultsOff() *shared.Error {
	return shared.Errorf(shared.CodeForbidden, "fault injection is off; start the server with -playground-faults")
}

// ParseFault reads content, the fault's name then optionally "=" and a
// whole number, or returns why it cannot be used, an error of code
// bad_request that the client is sent.
func ParseFault(content string) (Fault, *shared.Error) {
	name, arg, hasArg := strings.Cut(content, "=")
	n := 0
	if hasArg {
		v, err := strconv.Atoi(arg)
		if err != nil || v < 0 {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "fault %.40q: the parameter after = must be a whole number", name)
		}
		n = v
	}
	switch name {
	case shared.FaultLatency:
		if !hasArg || n > int(MaxLatency/time.Millisecond) {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "latency=MS: give the delay in milliseconds, 0 to %d", MaxLatency/time.Millisecond)
		}
	case shared.FaultDrop:
		if !hasArg {
			n = 1
		}
		if n < 1 || n > MaxDrop {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "drop=N: give how many of your frames to drop, 1 to %d", MaxDrop)
		}
	case shared.FaultNoPong:
		if hasArg {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "no_pong takes no parameter")
		}
	case shared.FaultStallReads:
		if hasArg && n < 1 {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "stall_reads=N: give the send queue's bound in messages, at least 1")
		}
	case shared.FaultClose:
		if !hasArg || !shared.FaultCloseAllowed(n) {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "close=CODE: the code must be 1000, 1001, 1008, 1011 or 4000 to 4999")
		}
	case shared.FaultRestart:
		if hasArg {
			return Fault{}, shared.Errorf(shared.CodeBadRequest, "restart takes no parameter")
		}
	default:
		return Fault{}, shared.Errorf(shared.CodeBadRequest, "unknown fault %.40q: one of latency=MS, drop=N, no_pong, stall_reads, close=CODE, restart", name)
	}
	return Fault{Name: name, N: n}, nil
}

// InjectFault applies the fault its client asked of the connection, the
// Content of a shared.TypeFault message, after calling ack, which sends
// the client the acknowledgement in the endpoint's own words (Reply
// suits it: the answer is then on the wire before a stall or a delay
// starts), and logs it. A fault ParseFault refuses is returned, and
// nothing is applied or acknowledged. Every endpoint takes the same
// faults, whatever its protocol: the endpoint checks that they are on
// (FaultsOff), counts those accepted, and leaves its application-level
// pings unanswered when NoPong says so. Call it from the Handler.
func (c *Conn) InjectFault(content string, ack func()) *shared.Error {
	f, err := ParseFault(content)
	if err != nil {
		return err
	}
	ack()
	switch f.Name {
	case shared.FaultLatency:
		c.InjectLatency(time.Duration(f.N) * time.Millisecond)
	case shared.FaultDrop:
		c.InjectDrop(f.N)
	case shared.FaultNoPong:
		c.InjectNoPong()
	case shared.FaultStallReads:
		c.InjectStall(f.N)
	case shared.FaultClose:
		c.Close(f.N, shared.ReasonFault)
	case shared.FaultRestart:
		c.Close(int(shared.CloseServiceRestart), shared.ReasonRestart)
	}
	c.Log().Info("fault injected", "fault", content)
	return nil
}

// faults is the state of a connection's injected faults. Its fields are
// guarded by the connection's mu, but for drop, which only the reading
// goroutine touches.
type faults struct {
	latency time.Duration // each write waits until its oldest frame is this old
	offered int64         // when the mailbox's frame was offered (see since), for latency
	drop    int           // client messages still to drop before the handler
	noPong  bool          // the endpoint does not answer the app-level ping
	// stall is 1 while the writes are stalled and a writer still owns
	// the write side, 2 once the stall holds the write side itself (no
	// goroutine: whoever ends the stall starts the drain).
	stall      int
	stallQueue int         // the queue's bound in messages while stalled
	stallTimer *time.Timer // ends the stall after MaxStall
}

// fault returns the connection's fault state, made on first use. Called
// with mu held.
func (c *Conn) fault() *faults {
	if c.faults == nil {
		c.faults = &faults{}
	}
	return c.faults
}

// InjectLatency delays every write to the client until its oldest frame
// waited d (at most MaxLatency; 0 ends the delay), the mailbox's (Offer)
// included. Every answer then goes through the queue, so its normal
// bounds still apply.
func (c *Conn) InjectLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault().latency = min(max(d, 0), MaxLatency)
}

// InjectDrop makes the connection drop the next n messages its client
// sends (at most MaxDrop) before its Handler sees them: pings, chat
// lines, anything. Call it from the Handler.
func (c *Conn) InjectDrop(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault().drop = min(max(n, 0), MaxDrop)
}

// InjectNoPong records that the endpoint stops answering its client's
// application-level pings, for the connection's life; see NoPong.
func (c *Conn) InjectNoPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault().noPong = true
}

// NoPong reports whether the endpoint must leave its client's pings
// unanswered (InjectNoPong).
func (c *Conn) NoPong() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.faults != nil && c.faults.noPong
}

// InjectStall stops the writes to the client, as if it had stopped
// reading: what the connection sends waits in its queue, whose bound
// becomes queue messages (DefaultStallQueue when 0, at most the
// configured SendQueue), and once it is full the connection is closed
// with 1008 "too slow", as any slow consumer is. A stall that has not
// filled the queue after MaxStall ends, and the queue is written.
func (c *Conn) InjectStall(queue int) {
	if queue <= 0 {
		queue = DefaultStallQueue
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	f := c.fault()
	if f.stall != 0 {
		return
	}
	f.stallQueue = min(queue, c.cfg.SendQueue)
	f.stall = 1
	if !c.writing {
		c.writing = true
		f.stall = 2
	}
	f.stallTimer = time.AfterFunc(MaxStall, c.endStall)
}

// endStall ends a stall that did not fill the queue in time.
func (c *Conn) endStall() {
	c.mu.Lock()
	start := c.releaseStall()
	c.mu.Unlock()
	if start {
		go c.drain()
	}
}

// releaseStall ends the stall, if any, and reports whether the caller
// now owns the write side and must run drain. Called with mu held.
func (c *Conn) releaseStall() bool {
	f := c.faults
	if f == nil || f.stall == 0 {
		return false
	}
	held := f.stall == 2
	f.stall = 0
	if f.stallTimer != nil {
		f.stallTimer.Stop()
		f.stallTimer = nil
	}
	return held
}

// stalled reports whether the writes must stop, and if so, hands the
// write side to the stall: the drain that asks returns without writing.
// Called with mu held, by the owner of the write side.
func (c *Conn) stalled() bool {
	if c.faults == nil || c.faults.stall == 0 || c.closing {
		return false
	}
	c.faults.stall = 2
	return true
}

// delayed reports whether a reply must go through the queue, because a
// fault delays or stalls the writes. Called with mu held.
func (c *Conn) delayed() bool {
	return c.faults != nil && (c.faults.latency > 0 || c.faults.stall != 0)
}

// latencyWait returns how long the writer waits before it writes batch,
// whose oldest frame was queued at batch[0].at, and latest, the
// mailbox's frame (nil for none), offered at faults.offered:
// InjectLatency's delay, until the oldest queued frame and the
// mailbox's are each that old. Called with mu held.
func (c *Conn) latencyWait(batch []outgoing, latest *Frame) time.Duration {
	if c.faults == nil || c.faults.latency <= 0 {
		return 0
	}
	now := since(time.Now())
	var wait time.Duration
	for _, o := range batch {
		if o.at != 0 { // pongs to control pings carry no time
			wait = c.faults.latency - time.Duration(now-o.at)
			break
		}
	}
	if latest != nil && c.faults.offered != 0 {
		wait = max(wait, c.faults.latency-time.Duration(now-c.faults.offered))
	}
	return wait
}

// dropIncoming reports whether the message just read is dropped
// (InjectDrop). Called on the reading goroutine.
func (c *Conn) dropIncoming() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.faults == nil || c.faults.drop == 0 {
		return false
	}
	c.faults.drop--
	return true
}

// delay waits d, or less if the connection closes meanwhile: the close
// sequence does not wait for an injected latency.
func (c *Conn) delay(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.Done():
	}
}
