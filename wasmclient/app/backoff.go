package app

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces out reconnection attempts: "full jitter" exponential
// backoff, where each wait is a random time between zero and a ceiling that
// doubles after every failed attempt, up to Max. The randomness spreads out
// many clients that lost the server at the same moment, so that they do not
// all come back in the same instant.
type Backoff struct {
	Min time.Duration // first ceiling; default 500 ms
	Max time.Duration // largest ceiling; default 30 s

	attempt int
	rand    func() float64 // in [0, 1); tests replace it
}

// Next returns how long to wait before the next attempt, and counts it.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	ceiling := lo << min(b.attempt, 30)
	if ceiling > hi || ceiling <= 0 {
		ceiling = hi
	}
	b.attempt++
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return time.Duration(r() * float64(ceiling))
}

// Reset starts over, after a connection succeeded.
func (b *Backoff) Reset() { b.attempt = 0 }

// Attempts returns how many waits Next has handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }
