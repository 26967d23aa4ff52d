package main

import (
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"wsplay/shared"
)

// messageLimiter applies Config.MessageRate and MessageBurst to the
// messages of one chat or notifications connection. Used only by that
// connection's readPump.
//
// A message over the rate is not handled. The client is told with a
// rate_limited error that says when to retry — at most once a second, so
// that a flood does not turn into a flood of errors. Refused messages draw
// on a second bucket, of sustainedRefusals refilled at the same rate: a
// client that sends somewhat too fast just loses its excess, one that
// floods empties it within moments and is closed with 1008.
type messageLimiter struct {
	lim      *rate.Limiter // messages handled
	abuse    *rate.Limiter // messages refused
	lastWarn time.Time     // when the client was last told
}

// sustainedRefusals is the abuse bucket's size: at 500 messages a second
// against the default 10, it is empty after about a fifth of a second.
const sustainedRefusals = 100

func newMessageLimiter(cfg *Config) *messageLimiter {
	return &messageLimiter{
		lim:   rate.NewLimiter(rate.Limit(cfg.MessageRate), cfg.MessageBurst),
		abuse: rate.NewLimiter(rate.Limit(cfg.MessageRate), sustainedRefusals),
	}
}

// check decides on one message that arrived at now. It returns ok when
// the message may be handled; otherwise warn, if not nil, is the error to
// send, and closeConn says the client has gone on too long.
func (l *messageLimiter) check(now time.Time) (ok bool, warn *shared.Error, closeConn bool) {
	if l.lim.AllowN(now, 1) {
		return true, nil, false
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

// admit applies the limit to a message that arrived on c now. It reports
// whether to handle the message; when the client is over the rate it is
// told through warn, and when it has been over too long c is closed with
// 1008 and err is errClosedByServer.
func (l *messageLimiter) admit(c *client, warn func(*shared.Error)) (ok bool, err error) {
	ok, w, closeConn := l.check(time.Now())
	switch {
	case closeConn:
		c.log.Info("closing: over the message rate for too long", "limit", l)
		c.close(websocket.ClosePolicyViolation, shared.ReasonRateLimit)
		return false, errClosedByServer
	case w != nil:
		c.log.Info("rate limited", "limit", l)
		warn(w)
	}
	return ok, nil
}

// String describes the limit, for logs.
func (l *messageLimiter) String() string {
	return fmt.Sprintf("%g/s burst %d", float64(l.lim.Limit()), l.lim.Burst())
}
