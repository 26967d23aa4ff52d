// Package check is the checker of exercise 5. It runs the project's real
// chat server with the learner's Presence in every room, behind an HTTP
// server on a loopback port, and watches it with real WebSocket clients:
// what they are shown when they join, and the joins and leaves they see.
package check

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsplay/server/chat"
	"wsplay/shared"

	"wsplay/workshop/internal/tasks"
)

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"each user listed once, sorted", "count connections per user in a map[string]int instead of keeping a list of names; Users returns the map's keys, sorted (slices.Sort), and Count its length"},
	{"one join per user, however many tabs", "Add reports true only when the user's count goes from 0 to 1"},
	{"a leave only after the last tab", "Remove lowers the count and reports true only when it reaches 0 (then delete the user); a user who is not there is left alone"},
}

// Run checks the learner's presence, made for each room by newPresence.
func Run(t *testing.T, newPresence func() chat.Presence) {
	task := func(n int, f func(t *testing.T, r *room)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t, start(t, newPresence))
		})
	}
	task(1, listedOnce)
	task(2, oneJoin)
	task(3, leaveAfterLast)
}

type room struct {
	url string
}

func start(t *testing.T, newPresence func() chat.Presence) *room {
	svc, err := chat.New(chat.Config{}, chat.Deps{NewPresence: func(string) chat.Presence { return newPresence() }})
	if err != nil {
		t.Fatalf("the chat server did not start: %v", err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Shutdown(ctx)
	})
	return &room{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat?room=workshop&username="}
}

// tab is one connection, with what it received.
type tab struct {
	t    *testing.T
	user string
	c    *websocket.Conn
	msgs chan shared.Message
}

func (r *room) open(t *testing.T, user string) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, r.url+user, nil)
	if err != nil {
		t.Fatalf("%s could not join the room: %v", user, err)
	}
	c.SetReadLimit(1 << 20)
	tb := &tab{t: t, user: user, c: c, msgs: make(chan shared.Message, 256)}
	go func() {
		defer close(tb.msgs)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var m shared.Message
			if json.Unmarshal(data, &m) == nil {
				tb.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return tb
}

// next returns the next message of one of the types, skipping others.
func (tb *tab) next(types ...shared.Type) (shared.Message, bool) {
	timeout := time.After(3 * time.Second)
	for {
		select {
		case m, ok := <-tb.msgs:
			if !ok {
				return shared.Message{}, false
			}
			if slices.Contains(types, m.Type) {
				return m, true
			}
		case <-timeout:
			return shared.Message{}, false
		}
	}
}

// userList waits for the list a tab is shown when it joins.
func (tb *tab) userList(n int) []string {
	tb.t.Helper()
	m, ok := tb.next(shared.TypeUserList)
	if !ok {
		tb.t.Fatalf("Task %d: %s joined but was never sent the room's user list", n, tb.user)
	}
	return m.Users
}

// say sends a text message.
func (tb *tab) say(n int, text string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, _ := json.Marshal(shared.Message{Type: shared.TypeText, Content: text})
	if err := tb.c.Write(ctx, websocket.MessageText, msg); err != nil {
		tb.t.Fatalf("Task %d: %s could not send: %v", n, tb.user, err)
	}
}

// presenceUntil returns the joins and leaves a tab sees before the text
// message marker arrives.
func (tb *tab) presenceUntil(n int, marker string) []string {
	tb.t.Helper()
	var seen []string
	for {
		m, ok := tb.next(shared.TypeJoin, shared.TypeLeave, shared.TypeText)
		switch {
		case !ok:
			tb.t.Fatalf("Task %d: %s waited for the message %q and it did not come", n, tb.user, marker)
		case m.Type == shared.TypeText && m.Content == marker:
			return seen
		case m.Type != shared.TypeText:
			seen = append(seen, string(m.Type)+" "+m.Username)
		}
	}
}

func listedOnce(t *testing.T, r *room) {
	r.open(t, "bob").userList(1)
	r.open(t, "ada").userList(1)
	r.open(t, "ada").userList(1)
	if got, want := r.open(t, "cy").userList(1), []string{"ada", "bob", "cy"}; !slices.Equal(got, want) {
		t.Fatalf("Task 1: bob, then ada in two tabs, then cy joined; cy was shown the users %q, expected %q: each user once, sorted", got, want)
	}
}

func oneJoin(t *testing.T, r *room) {
	bob := r.open(t, "bob")
	bob.userList(2)
	ada := r.open(t, "ada")
	ada.userList(2)
	r.open(t, "ada").userList(2)
	ada.say(2, "sync")
	if got, want := bob.presenceUntil(2, "sync"), []string{"join ada"}; !slices.Equal(got, want) {
		t.Fatalf("Task 2: bob was in the room when ada opened two tabs; bob saw %q, expected %q: a second tab is not a second arrival", got, want)
	}
}

func leaveAfterLast(t *testing.T, r *room) {
	bob := r.open(t, "bob")
	bob.userList(3)
	first, second := r.open(t, "ada"), r.open(t, "ada")
	first.userList(3)
	second.userList(3)
	bob.say(3, "ready") // what came before (ada's join) out of the way
	bob.presenceUntil(3, "ready")
	first.c.Close(websocket.StatusNormalClosure, "")
	time.Sleep(200 * time.Millisecond)
	second.say(3, "still here")
	if got := bob.presenceUntil(3, "still here"); len(got) != 0 {
		t.Fatalf("Task 3: ada closed one of her two tabs; bob saw %q, expected nothing: ada is still in the room", got)
	}
	second.c.Close(websocket.StatusNormalClosure, "")
	time.Sleep(200 * time.Millisecond)
	bob.say(3, "and now")
	if got, want := bob.presenceUntil(3, "and now"), []string{"leave ada"}; !slices.Equal(got, want) {
		t.Fatalf("Task 3: ada closed her last tab; bob saw %q, expected %q", got, want)
	}
	if got, want := r.open(t, "cy").userList(3), []string{"bob", "cy"}; !slices.Equal(got, want) {
		t.Fatalf("Task 3: after ada closed both tabs, cy joined and was shown %q, expected %q", got, want)
	}
}
