package app

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoopRunsPostsInOrderOnOneGoroutine(t *testing.T) {
	t.Parallel()
	loop := NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		loop.Run(ctx)
		close(done)
	}()

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
	finished := make(chan struct{})
	loop.Post(func() { close(finished) })
	<-finished
	cancel()
	<-done
	for p := range posters {
		assert.Len(t, got[p], each)
		for i, v := range got[p] {
			if v != i {
				t.Fatalf("poster %d: item %d is %d; posts ran out of order", p, i, v)
			}
		}
	}
}
