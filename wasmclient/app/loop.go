package app

import (
	"context"
	"sync"
)

// Loop runs posted functions one at a time, in the order they were posted,
// on the goroutine that calls Run.
type Loop struct {
	mu    sync.Mutex // guards queue
	queue []func()
	wake  chan struct{} // holds a token while queue may be non-empty
}

// NewLoop returns an empty loop; call Run to start it.
func NewLoop() *Loop {
	return &Loop{wake: make(chan struct{}, 1)}
}

// Post queues fn to run on the loop. It never blocks, so it is safe from a
// JavaScript callback. The queue has no bound: what posts to it is bounded
// by the user's hands and the sockets' read loops.
func (l *Loop) Post(fn func()) {
	l.mu.Lock()
	l.queue = append(l.queue, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a token is already waiting
	}
}

// Run runs posted functions until ctx is done. Functions posted after that
// are dropped.
func (l *Loop) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		l.mu.Unlock()
		for _, fn := range batch {
			fn()
		}
	}
}
