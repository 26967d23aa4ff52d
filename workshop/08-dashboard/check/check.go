// Package check is the checker of exercise 8: it publishes snapshots to
// a learner's board from several goroutines, with viewers that read fast,
// slowly or not at all, and that come and go, under the race detector.
package check

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"wsplay/workshop/internal/tasks"
)

// Board is what the checker needs of a learner's board.
type Board interface {
	Subscribe() Viewer
	Publish(snapshot []byte)
}

// Viewer is what the checker needs of a learner's viewer.
type Viewer interface {
	Next(ctx context.Context) ([]byte, error)
	Unsubscribe()
}

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"a slow viewer gets the newest snapshot, not a backlog", "give each viewer a mailbox of one (make(chan []byte, 1)); Publish puts the snapshot in it, and when it is full takes the older one out first, all without waiting (select with default)"},
	{"every viewer that reads gets the newest", "after taking out the older snapshot, try again to put the newer one in: loop until it is in"},
	{"viewers come and go while samplers publish", "Publish runs in several goroutines at once under the read lock: it must not change the map. Let Unsubscribe delete the viewer itself, under the write lock (or use one plain Mutex)"},
}

const limit = 2 * time.Second

// Run checks newBoard's boards task by task.
func Run(t *testing.T, newBoard func() Board) {
	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t)
		})
	}
	task(1, func(t *testing.T) { slowViewer(t, newBoard()) })
	task(2, func(t *testing.T) { fastViewers(t, newBoard()) })
	task(3, func(t *testing.T) { comeAndGo(t, newBoard()) })
}

// within runs f, failing the task if it is not back within the limit.
func within(t *testing.T, n int, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("Task %d: %s did not return within %v: Publish waited for a viewer, so every other viewer (and the sampler) waited with it", n, what, limit)
	}
}

func next(v Viewer, wait time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := v.Next(ctx)
	return string(s), err == nil
}

func slowViewer(t *testing.T, b Board) {
	v := b.Subscribe() // not unsubscribed after a failure: the board may be stuck
	within(t, 1, "publishing 2,000 snapshots to a viewer that reads none", func() {
		for i := range 2000 {
			b.Publish([]byte(strconv.Itoa(i)))
		}
	})
	got, ok := next(v, time.Second)
	if !ok || got != "1999" {
		t.Fatalf("Task 1: 2,000 snapshots were published to a viewer that read none; its next read should be the newest, 1999; it was %q", got)
	}
	if more, ok := next(v, 100*time.Millisecond); ok {
		t.Fatalf("Task 1: after taking the newest snapshot, the viewer found another waiting (%q): a backlog, which a slow viewer only falls further behind on", more)
	}
	within(t, 1, "Unsubscribe", v.Unsubscribe)
}

func fastViewers(t *testing.T, b Board) {
	const n = 500
	var wg sync.WaitGroup
	last := make([]string, 3)
	var failed error
	var mu sync.Mutex
	for i := range last {
		v := b.Subscribe()
		wg.Go(func() {
			defer v.Unsubscribe()
			prev := -1
			for {
				s, ok := next(v, 500*time.Millisecond)
				if !ok {
					return
				}
				k, _ := strconv.Atoi(s)
				if k <= prev {
					mu.Lock()
					failed = errors.Join(failed, fmt.Errorf("viewer %d got snapshot %d after %d", i+1, k, prev))
					mu.Unlock()
				}
				prev, last[i] = k, s
				if k == n-1 {
					return
				}
			}
		})
	}
	within(t, 2, "publishing 500 snapshots to three viewers that read", func() {
		for i := range n {
			b.Publish([]byte(strconv.Itoa(i)))
		}
	})
	within(t, 2, "the viewers' reads and Unsubscribe", wg.Wait)
	if failed != nil {
		t.Fatalf("Task 2: a viewer must never get an older snapshot after a newer one: %v", failed)
	}
	for i, s := range last {
		if s != strconv.Itoa(n-1) {
			t.Fatalf("Task 2: after 500 snapshots (0 to 499), viewer %d, which reads all the time, last got %q; expected the newest, 499", i+1, s)
		}
	}
}

func comeAndGo(t *testing.T, b Board) {
	within(t, 3, "sixteen samplers publishing while 1,600 viewers come and go", func() {
		var wg sync.WaitGroup
		for s := range 16 {
			wg.Go(func() {
				for i := range 1000 {
					b.Publish(fmt.Appendf(nil, "%d-%d", s, i))
				}
			})
		}
		for range 8 {
			wg.Go(func() {
				for range 200 {
					v := b.Subscribe()
					next(v, time.Millisecond)
					v.Unsubscribe()
					v.Unsubscribe() // twice: a page closed while the server shuts down
				}
			})
		}
		wg.Wait()
	})
}
