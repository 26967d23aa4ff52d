// Package check is the checker of exercise 7: a learner's notification
// service behind an HTTP server on a loopback port whose connections
// notice overlapping writes, with real WebSocket tabs, and posts from
// several goroutines at once, as HTTP requests would make them.
package check

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/workshop/internal/watch"

	"wsplay/workshop/internal/tasks"
)

// Service is what the checker needs of a learner's service.
type Service interface {
	Handler() http.Handler
	Post(user, text string) int
}

// Message is the exercise's JSON message.
type Message struct {
	Type string `json:"type"`
	ID   int    `json:"id"`
	Text string `json:"text,omitempty"`
}

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"every tab gets every notification, once", "Post must not write to the connections: give each tab a queue (a channel) and a write pump, its only writer, and have Post put the notification on every tab's queue"},
	{"stored until read", "keep each user's unread notifications; Post adds to them, and a tab that opens is sent them first, under the same lock that registers the tab, so that nothing posted meanwhile is missed or sent twice"},
	{"read in one tab, read in all", "when a tab sends {\"type\":\"read\",\"id\":N}, remove note N from the user's unread ones and queue {\"type\":\"read\",\"id\":N} for every tab of the user"},
}

// Run checks newService's services task by task.
func Run(t *testing.T, newService func() Service) {
	task := func(n int, f func(t *testing.T, s Service, srv *watch.Server)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			s := newService()
			f(t, s, watch.Start(t, s.Handler()))
		})
	}
	task(1, everyTab)
	task(2, storedUntilRead)
	task(3, readEverywhere)
}

// tab is one browser tab of a user.
type tab struct {
	t    *testing.T
	ws   *websocket.Conn
	msgs chan Message
}

func open(t *testing.T, srv *watch.Server, user string) *tab {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(srv.WSURL("/?user="+user), nil)
	if err != nil {
		t.Fatalf("%s could not open a tab: %v", user, err)
	}
	tb := &tab{t: t, ws: ws, msgs: make(chan Message, 256)}
	go func() {
		defer close(tb.msgs)
		for {
			var m Message
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			tb.msgs <- m
		}
	}()
	t.Cleanup(func() { ws.Close() })
	time.Sleep(50 * time.Millisecond) // registered by the server
	return tb
}

// take returns what the tab receives within d.
func (tb *tab) take(d time.Duration) []Message {
	var got []Message
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-tb.msgs:
			if !ok {
				return got
			}
			got = append(got, m)
		case <-timeout:
			return got
		}
	}
}

func notes(ms []Message) []string {
	var out []string
	for _, m := range ms {
		if m.Type == "note" {
			out = append(out, m.Text)
		}
	}
	return out
}

// post calls Post, turning a panic (gorilla's "concurrent write to
// websocket connection") into a recorded failure.
func post(s Service, user, text string, panicked *atomic.Value) int {
	defer func() {
		if r := recover(); r != nil {
			panicked.Store(fmt.Sprint(r))
		}
	}()
	return s.Post(user, text)
}

func everyTab(t *testing.T, s Service, srv *watch.Server) {
	tabs := []*tab{open(t, srv, "ada"), open(t, srv, "ada"), open(t, srv, "ada")}
	var panicked atomic.Value
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				post(s, "ada", fmt.Sprintf("n%d-%d", g, i), &panicked)
			}
		})
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		t.Fatalf("Task 1: Post panicked: %v: posts from several goroutines wrote to one tab's connection at once", p)
	}
	if n := srv.Overlaps(); n > 0 {
		t.Fatalf("Task 1: %d writes to a tab's connection began while another was under way: Post wrote from several goroutines at once, which gorilla does not allow", n)
	}
	for i, tb := range tabs {
		got := notes(tb.take(time.Second))
		slices.Sort(got)
		if len(got) != 40 || len(slices.Compact(slices.Clone(got))) != 40 {
			t.Fatalf("Task 1: 40 notifications were posted to ada from 4 goroutines; her tab %d received %d of them (%d different)", i+1, len(got), len(slices.Compact(got)))
		}
	}
}

func storedUntilRead(t *testing.T, s Service, srv *watch.Server) {
	first := s.Post("bob", "first")
	s.Post("bob", "second")
	tb := open(t, srv, "bob")
	if got := notes(tb.take(500 * time.Millisecond)); !slices.Equal(got, []string{"first", "second"}) {
		t.Fatalf("Task 2: two notifications were posted to bob while he had no tab open; his first tab received %q, expected [first second]", got)
	}
	if err := tb.ws.WriteJSON(Message{Type: "read", ID: first}); err != nil {
		t.Fatalf("Task 2: could not mark a notification read: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := notes(open(t, srv, "bob").take(500 * time.Millisecond)); !slices.Equal(got, []string{"second"}) {
		t.Fatalf("Task 2: bob read \"first\" in one tab; a tab he opened after received %q, expected only the unread [second]", got)
	}
}

func readEverywhere(t *testing.T, s Service, srv *watch.Server) {
	a, b := open(t, srv, "cy"), open(t, srv, "cy")
	id := s.Post("cy", "hello")
	a.take(300 * time.Millisecond)
	b.take(300 * time.Millisecond)
	if err := a.ws.WriteJSON(Message{Type: "read", ID: id}); err != nil {
		t.Fatalf("Task 3: could not mark a notification read: %v", err)
	}
	got := b.take(time.Second)
	if !slices.Contains(got, Message{Type: "read", ID: id}) {
		t.Fatalf("Task 3: cy read notification %d in one tab; her other tab received %v, expected {\"type\":\"read\",\"id\":%d} so that its badge goes down too", id, got, id)
	}
}
