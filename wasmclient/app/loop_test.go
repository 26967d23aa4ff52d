package app

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// runLoop runs a new loop until the test ends. Cleanups registered after
// this call run first, while the loop still runs.
func runLoop(t *testing.T) *Loop {
	loop := NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		loop.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return loop
}

// onLoop runs fn on loop and waits for it.
func onLoop(loop *Loop, fn func()) {
	done := make(chan struct{})
	loop.Post(func() {
		fn()
		close(done)
	})
	<-done
}

func TestLoopRunsPostsInOrderOnOneGoroutine(t *testing.T) {
	t.Parallel()
	loop := runLoop(t)

	const posters, each = 8, 500
	var got [posters][]int // touched only by the loop goroutine: no lock
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := range each {
				loop.Post(func() { got[p] = append(got[p], i) })
			}
		})
	}
	wg.Wait()
	onLoop(loop, func() {}) // every post has run
	for p := range posters {
		assert.Len(t, got[p], each)
		for i, v := range got[p] {
			if v != i {
				t.Fatalf("poster %d: item %d is %d; posts ran out of order", p, i, v)
			}
		}
	}
}
