// Package check is the checker of exercise 3. It drives a learner's hub
// directly, with a time limit on every call, so that a hub that
// deadlocks fails within seconds instead of hanging the checker.
package check

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"wsplay/workshop/internal/tasks"
)

// Hub is what the checker needs of a learner's hub.
type Hub interface {
	Run(ctx context.Context)
	Register(c Client) bool
	Unregister(c Client) bool
	Broadcast(msg []byte) bool
}

// Client is a learner's client: its Send channel.
type Client interface {
	Send() <-chan []byte
}

// Subject is the code under check, adapted by a few lines in the test
// file that calls Run.
type Subject struct {
	NewHub    func() Hub
	NewClient func() Client
	Joined    string
}

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"every client gets every broadcast", "in the broadcast case, loop over h.clients and put msg on each client's Send with a select and a default, so that a full client never blocks the hub"},
	{"announce a join without a deadlock", "Run is the only goroutine that receives from h.broadcast, so when Run itself sends on it, nobody is there to receive: the hub waits for ever. Write a method (deliver) that both the broadcast case and the register case call"},
	{"unregister closes Send once, and Run ends with its context", "in the unregister case, check that the client is still in h.clients before you delete it and close its Send (a second close panics); when ctx is done, close every client's Send, then return"},
}

const limit = 2 * time.Second

// Run checks s task by task.
func Run(t *testing.T, s Subject) {
	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t)
		})
	}
	task(1, func(t *testing.T) { broadcasts(t, s, 1) })
	task(2, func(t *testing.T) { joins(t, s) })
	task(3, func(t *testing.T) { leaves(t, s) })
}

// start runs a hub for the test; it is stopped at the end.
func start(t *testing.T, s Subject) (Hub, <-chan struct{}, context.CancelFunc) {
	h := s.NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("the hub's Run panicked: %v", r)
			}
		}()
		h.Run(ctx)
	}()
	t.Cleanup(cancel)
	return h, ended, cancel
}

// within calls f, failing the test if it has not returned within the
// limit: a hub that is stuck makes every call to it wait.
func within(t *testing.T, n int, what string, f func() bool) {
	t.Helper()
	done := make(chan bool, 1)
	go func() { done <- f() }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatalf("Task %d: %s: the hub said it has stopped", n, what)
		}
	case <-time.After(limit):
		t.Fatalf("Task %d: %s did not return within %v: the hub's goroutine is stuck. A hub that sends on one of its own channels (h.broadcast <- ... inside Run) waits for a receiver that is itself: a deadlock", n, what, limit)
	}
}

// received takes what c has, waiting up to a moment for more.
func received(c Client) (msgs []string, closed bool) {
	for {
		select {
		case m, ok := <-c.Send():
			if !ok {
				return msgs, true
			}
			msgs = append(msgs, string(m))
		case <-time.After(200 * time.Millisecond):
			return msgs, false
		}
	}
}

func without(msgs []string, drop string) []string {
	return slices.DeleteFunc(msgs, func(m string) bool { return m == drop })
}

func broadcasts(t *testing.T, s Subject, n int) {
	h, _, _ := start(t, s)
	clients := []Client{s.NewClient(), s.NewClient(), s.NewClient()}
	for i, c := range clients {
		within(t, n, fmt.Sprintf("registering client %d", i+1), func() bool { return h.Register(c) })
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		within(t, n, "Broadcast("+m+")", func() bool { return h.Broadcast([]byte(m)) })
	}
	for i, c := range clients {
		got, _ := received(c)
		if got = without(got, s.Joined); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
			t.Fatalf("Task %d: three clients registered, then m1, m2 and m3 were broadcast; client %d received %q (joins left out)", n, i+1, got)
		}
	}
}

func joins(t *testing.T, s Subject) {
	h, _, _ := start(t, s)
	a, b, c := s.NewClient(), s.NewClient(), s.NewClient()
	for i, cl := range []Client{a, b, c} {
		within(t, 2, fmt.Sprintf("registering client %d", i+1), func() bool { return h.Register(cl) })
	}
	within(t, 2, "Broadcast after the joins", func() bool { return h.Broadcast([]byte("hello")) })
	for i, want := range [][]string{{s.Joined, s.Joined, "hello"}, {s.Joined, "hello"}, {"hello"}} {
		got, _ := received([]Client{a, b, c}[i])
		if !slices.Equal(got, want) {
			t.Fatalf("Task 2: clients 1, 2 and 3 registered in that order, then hello was broadcast; client %d should have %q (one join for each client after it) but has %q", i+1, want, got)
		}
	}
}

func leaves(t *testing.T, s Subject) {
	h, ended, stop := start(t, s)
	a, b := s.NewClient(), s.NewClient()
	within(t, 3, "registering client 1", func() bool { return h.Register(a) })
	within(t, 3, "registering client 2", func() bool { return h.Register(b) })
	received(a) // the join of b
	within(t, 3, "Unregister(client 1)", func() bool { return h.Unregister(a) })
	within(t, 3, "Unregister(client 1) a second time", func() bool { return h.Unregister(a) })
	within(t, 3, "Broadcast after client 1 left", func() bool { return h.Broadcast([]byte("after")) })
	got, closed := received(a)
	if len(got) > 0 || !closed {
		t.Fatalf("Task 3: after Unregister, client 1 should get nothing more and find its Send closed; it got %q, and Send is closed: %v", got, closed)
	}
	if got, _ := received(b); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("Task 3: client 2, still registered, should get %q; it got %q", []string{"after"}, got)
	}
	stop()
	select {
	case <-ended:
	case <-time.After(limit):
		t.Fatalf("Task 3: Run did not return within %v of its context ending", limit)
	}
	if t.Failed() {
		return // Run panicked: a second close, most likely
	}
	if _, closed := received(b); !closed {
		t.Fatal("Task 3: when Run ends, every client still registered should find its Send closed, so that its write pump ends; client 2's is still open")
	}
}
