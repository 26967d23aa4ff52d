// Package keyrate is a token bucket per key (an address, a user), in a
// table that cannot grow without bound: past its size, keys whose bucket
// has refilled are forgotten (they are as good as new), and while every
// key remembered is busy, new keys are refused.
package keyrate

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits each key to Rate events a second with bursts of Burst.
// Make it with New; it is safe for concurrent use.
type Limiter struct {
	rate  rate.Limit
	burst int
	size  int

	mu   sync.Mutex // guards keys
	keys map[string]*rate.Limiter
}

// New returns a limiter of perSecond events a second per key, bursts of
// burst, remembering at most size keys.
func New(perSecond float64, burst, size int) *Limiter {
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, size: size, keys: map[string]*rate.Limiter{}}
}

// Wait takes one event for key at now and returns 0, or, when key is over
// its rate, takes nothing and returns how long until it would be allowed.
func (l *Limiter) Wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.size {
			for k, old := range l.keys {
				if old.TokensAt(now) >= float64(l.burst) {
					delete(l.keys, k)
				}
			}
		}
		if len(l.keys) >= l.size {
			return time.Second // every key remembered is busy: a flood
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// Allow reports whether key may have one more event now, and takes it.
func (l *Limiter) Allow(key string, now time.Time) bool { return l.Wait(key, now) == 0 }
