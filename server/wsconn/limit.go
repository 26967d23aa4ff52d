package wsconn

import (
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"wsplay/shared"
)

// Limiter bounds the messages one connection may send: a rate, with
// bursts. It is used only by that connection's reader, from its
// Handler.
//
// A message over the rate is not handled. The client is told with a
// rate_limited error that says when to retry — at most once a second, so
// that a flood does not turn into a flood of errors. Refused messages draw
// on a second bucket, of sustainedRefusals refilled at the same rate: a
// client that sends somewhat too fast just loses its excess, one that
// floods empties it within moments and is closed with 1008.
type Limiter struct {
	perSecond float64
	burst     int
	// Made on first use: a connection that never sends holds neither.
	lim      *rate.Limiter // messages handled
	abuse    *rate.Limiter // messages refused
	lastWarn time.Time     // when the client was last told
}

// sustainedRefusals is the abuse bucket's size: at 500 messages a second
// against the default 10, it is empty after about a fifth of a second.
const sustainedRefusals = 100

// The defaults of NewLimiter.
const (
	DefaultMessageRate  = 10 // messages a second
	DefaultMessageBurst = 20
)

// NewLimiter returns a limiter of perSecond messages a second with bursts
// of burst. Zero (or less) takes the default: DefaultMessageRate and
// DefaultMessageBurst.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultMessageRate
	}
	if burst <= 0 {
		burst = DefaultMessageBurst
	}
	return &Limiter{perSecond: perSecond, burst: burst}
}

// check decides on one message that arrived at now. It returns ok when
// the message may be handled; otherwise warn, if not nil, is the error to
// send, and closeConn says the client has gone on too long.
func (l *Limiter) check(now time.Time) (ok bool, warn *shared.Error, closeConn bool) {
	if l.lim == nil {
		l.lim = rate.NewLimiter(rate.Limit(l.perSecond), l.burst)
	}
	if l.lim.AllowN(now, 1) {
		return true, nil, false
	}
	if l.abuse == nil {
		l.abuse = rate.NewLimiter(rate.Limit(l.perSecond), sustainedRefusals)
	}
	if !l.abuse.AllowN(now, 1) {
		return false, nil, true
	}
	if now.Sub(l.lastWarn) >= time.Second {
		l.lastWarn = now
		r := l.lim.ReserveN(now, 1)
		wait := r.DelayFrom(now)
		r.CancelAt(now)
		warn = shared.Errorf(shared.CodeRateLimited, "too many messages: at most %g a second (bursts of %d); retry in %v",
			float64(l.lim.Limit()), l.lim.Burst(), wait.Round(time.Millisecond))
	}
	return false, warn, false
}

// Admit applies the limit to a message that arrived on c now. It reports
// whether to handle the message; when the client is over the rate it is
// told through warn, and when it has been over too long c is closed with
// 1008 and err is ErrClosedByServer, for the Handler to return.
func (l *Limiter) Admit(c *Conn, warn func(*shared.Error)) (ok bool, err error) {
	ok, w, closeConn := l.check(time.Now())
	switch {
	case closeConn:
		c.Log().Info("closing: over the message rate for too long", "limit", l)
		c.Close(websocket.ClosePolicyViolation, shared.ReasonRateLimit)
		return false, ErrClosedByServer
	case w != nil:
		c.Log().Info("rate limited", "limit", l)
		warn(w)
	}
	return ok, nil
}

// String describes the limit, for logs.
func (l *Limiter) String() string {
	return fmt.Sprintf("%g/s burst %d", l.perSecond, l.burst)
}

// MaxStrikes is how many unusable messages in a row a client may send
// before it is closed with 1008. Each one before that gets an error
// message; a usable message resets the count.
const MaxStrikes = 10

// Strikes counts a connection's unusable messages in a row. Used only by
// that connection's reader, from its Handler.
type Strikes struct{ n int }

// Good resets the count after a usable message.
func (s *Strikes) Good() { s.n = 0 }

// Bad counts an unusable message. On the MaxStrikes-th in a row it closes
// c with 1008 and returns ErrClosedByServer, for the Handler to return;
// before that it returns nil, and the Handler answers with an error
// message.
func (s *Strikes) Bad(c *Conn, e *shared.Error) error {
	s.n++
	c.Log().Info("bad message", "code", e.Code, "detail", e.Detail, "strikes", s.n)
	if s.n >= MaxStrikes {
		c.Close(websocket.ClosePolicyViolation, shared.ReasonTooManyFaults)
		return ErrClosedByServer
	}
	return nil
}
