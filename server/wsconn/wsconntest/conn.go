// Package wsconntest is a stand-in for a [wsconn.Conn] without a socket,
// for unit tests of code that queues messages for connections (a chat
// room, a notification tab): what is queued stays in Queue for the test
// to read, and a full queue closes the connection as too slow, as a real
// one does.
package wsconntest

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Conn has the queueing, closing and fault methods of a [wsconn.Conn].
type Conn struct {
	// Queue holds what was queued, oldest first; a test reads it.
	Queue chan *wsconn.Frame

	once   sync.Once
	done   chan struct{}
	code   int
	reason string

	mu     sync.Mutex // guards faults
	faults []wsconn.Fault
}

// NewConn returns a connection whose queue holds queue messages.
func NewConn(queue int) *Conn {
	return &Conn{Queue: make(chan *wsconn.Frame, queue), done: make(chan struct{})}
}

// Enqueue queues m without blocking; a full queue closes the connection
// with 1008 "too slow". It reports whether m was queued.
func (c *Conn) Enqueue(m *wsconn.Frame) bool { return c.EnqueueAt(m, time.Now()) }

// EnqueueAt is Enqueue; the time is ignored.
func (c *Conn) EnqueueAt(m *wsconn.Frame, _ time.Time) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.Queue <- m:
		return true
	default:
		c.Close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return false
	}
}

// EnqueueWait queues m, waiting for room until the connection is closed.
func (c *Conn) EnqueueWait(m *wsconn.Frame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.Queue <- m:
		return true
	case <-c.done:
		return false
	}
}

// Close records the first code and reason and closes Done.
func (c *Conn) Close(code int, reason string) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.done)
	})
}

// Done is closed by the first Close.
func (c *Conn) Done() <-chan struct{} { return c.done }

// CloseStatus returns what the first Close was given, or 0 and "".
func (c *Conn) CloseStatus() (int, string) {
	select {
	case <-c.done:
		return c.code, c.reason
	default:
		return 0, ""
	}
}

// Reply is Enqueue: there is no socket to write at once.
func (c *Conn) Reply(m *wsconn.Frame) bool { return c.Enqueue(m) }

// InjectFault checks content as a [wsconn.Conn] does and, if it is
// usable, calls ack and records the fault (see Faults): only close and
// restart act, by closing the connection.
func (c *Conn) InjectFault(content string, ack func()) *shared.Error {
	f, err := wsconn.ParseFault(content)
	if err != nil {
		return err
	}
	ack()
	c.mu.Lock()
	c.faults = append(c.faults, f)
	c.mu.Unlock()
	switch f.Name {
	case shared.FaultClose:
		c.Close(f.N, shared.ReasonFault)
	case shared.FaultRestart:
		c.Close(int(shared.CloseServiceRestart), shared.ReasonRestart)
	}
	return nil
}

// Faults returns the faults InjectFault accepted, oldest first.
func (c *Conn) Faults() []wsconn.Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wsconn.Fault(nil), c.faults...)
}

// NoPong reports whether no_pong was injected.
func (c *Conn) NoPong() bool {
	for _, f := range c.Faults() {
		if f.Name == shared.FaultNoPong {
			return true
		}
	}
	return false
}
