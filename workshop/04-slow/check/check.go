// Package check is the checker of exercise 4: a learner's room behind a
// real HTTP server on a loopback port, real WebSocket clients, one of
// which never reads, with small socket buffers so that it falls behind
// at once.
package check

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/workshop/internal/tasks"
)

// Room is what the checker needs of a learner's room.
type Room interface {
	Handler() http.Handler
	Broadcast(msg []byte)
	Len() int
}

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"never wait for a slow client", "in Broadcast, put the message on each client's queue with a select and a default; when the queue is full, drop that client instead of waiting"},
	{"drop the slow client with 1008", "mark the client as slow when you drop it; when its write pump finds the queue closed, it writes a close frame (websocket.FormatCloseMessage(websocket.ClosePolicyViolation, \"too slow\")) before it closes the connection"},
	{"close each queue once", "a client can be removed twice: once by Broadcast (too slow) and once by its read pump (it left). Remove it in one function that closes the queue only if the client is still in the room"},
}

const (
	messages = 400
	size     = 4 << 10
	limit    = 2 * time.Second
)

// Run checks newRoom's rooms task by task.
func Run(t *testing.T, newRoom func() Room) {
	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t)
		})
	}
	task(1, func(t *testing.T) { s := setUp(t, newRoom(), 1); s.flood(t, 1) })
	task(2, func(t *testing.T) { s := setUp(t, newRoom(), 2); s.flood(t, 2); s.slowDropped(t, 2) })
	task(3, func(t *testing.T) { s := setUp(t, newRoom(), 3); s.flood(t, 3); s.slowDropped(t, 3); s.leave(t) })
}

// scene is a room with five clients that read and one that does not.
type scene struct {
	room   Room
	panics *panicLog
	fast   []*websocket.Conn
	got    []chan []byte
	slow   *websocket.Conn
}

func setUp(t *testing.T, room Room, n int) *scene {
	srv := httptest.NewUnstartedServer(room.Handler())
	srv.Listener = smallBuffers{srv.Listener}
	panics := &panicLog{}
	srv.Config.ErrorLog = log.New(panics, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if p := panics.first(); p != "" {
			t.Errorf("Task %d: the handler panicked: %s. Closing a channel that is closed already panics: a client's queue was closed twice (task 3)", n, p)
		}
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	s := &scene{room: room, panics: panics}
	for range 5 {
		c := dial(t, url, false)
		got := make(chan []byte, messages+1)
		go func() {
			defer close(got)
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				got <- msg
			}
		}()
		s.fast, s.got = append(s.fast, c), append(s.got, got)
	}
	s.slow = dial(t, url, true)
	s.waitFor(t, n, 6, "six clients joined")
	return s
}

// panicLog is the server's error log: net/http recovers a handler's
// panic and logs it there, with its stack, which the checker turns into
// one sentence.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicLog) Write(b []byte) (int, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	if i := strings.Index(line, "http: panic serving "); i >= 0 {
		_, msg, _ := strings.Cut(line[i:], ": ")
		if j := strings.Index(msg, ": "); j >= 0 {
			msg = msg[j+2:] // after the client's address
		}
		p.mu.Lock()
		p.panics = append(p.panics, msg)
		p.mu.Unlock()
	}
	return len(b), nil
}

func (p *panicLog) first() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.panics) == 0 {
		return ""
	}
	return p.panics[0]
}

// smallBuffers gives the server's side of every connection a small send
// buffer, so that a client that does not read fills it at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

func dial(t *testing.T, url string, small bool) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok && small {
			tc.SetReadBuffer(8 << 10)
		}
		return c, err
	}}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("could not open a WebSocket: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// call runs f with the time limit, failing the task if it is not back.
func call(t *testing.T, n int, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("Task %d: %s did not return within %v: it is waiting, most likely for the client that does not read (a send on its full queue), and every other client waits with it", n, what, limit)
	}
}

func (s *scene) waitFor(t *testing.T, n, want int, what string) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		call(t, n, "Len", func() { got = s.room.Len() })
		if got == want {
			return
		}
	}
	t.Fatalf("Task %d: expected %s, so Len() %d; it is %d", n, what, want, got)
}

// flood broadcasts the messages one at a time, each once the clients
// that read have the one before: they never fall behind, and the one
// that does not read falls behind at once.
func (s *scene) flood(t *testing.T, n int) {
	for i := range messages {
		msg := append(fmt.Appendf(nil, "%04d ", i), bytes.Repeat([]byte("x"), size)...)
		call(t, n, fmt.Sprintf("Broadcast number %d (of %d, %d KiB each, with one client not reading)", i+1, messages, size>>10), func() { s.room.Broadcast(msg) })
		for c, got := range s.got {
			select {
			case m, ok := <-got:
				if !ok {
					t.Fatalf("Task %d: client %d, which reads, was disconnected after %d of the %d messages", n, c+1, i, messages)
				}
				if !bytes.Equal(m, msg) {
					t.Fatalf("Task %d: client %d, which reads, expected message %d next and got %.10q", n, c+1, i, m)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Task %d: client %d, which reads, did not get message %d of %d within 5 s", n, c+1, i, messages)
			}
		}
	}
}

func (s *scene) slowDropped(t *testing.T, n int) {
	s.slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := s.slow.ReadMessage()
		if err == nil {
			continue // what was queued before the drop
		}
		var ce *websocket.CloseError
		var ne net.Error
		switch {
		case errors.As(err, &ce) && ce.Code == websocket.ClosePolicyViolation:
			s.waitFor(t, n, 5, "the slow client gone")
			return
		case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
			t.Fatalf("Task %d: the client that did not read was disconnected without a close frame; expected 1008 (policy violation) \"too slow\", so that it knows why", n)
		case errors.As(err, &ce):
			t.Fatalf("Task %d: the client that did not read was closed with %d %q; expected 1008 (policy violation) \"too slow\"", n, ce.Code, ce.Text)
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("Task %d: the client that did not read for %d messages is still connected after 5 s; with a queue of 16 it should have been dropped with 1008", n, messages)
		default:
			t.Fatalf("Task %d: the client that did not read ended with %v; expected a close frame with 1008 \"too slow\"", n, err)
		}
	}
}

// leave has the dropped client hang up, and one reading client leave;
// the room must carry on with the four others.
func (s *scene) leave(t *testing.T) {
	s.slow.Close()
	s.fast[0].Close()
	time.Sleep(300 * time.Millisecond) // their read pumps see it and remove them
	s.waitFor(t, 3, 4, "four clients left after one was dropped and one left")
	call(t, 3, "Broadcast after the leaves", func() { s.room.Broadcast([]byte("still here")) })
	for i := 1; i < 5; i++ {
		if !s.receives(s.got[i], "still here") {
			t.Fatalf("Task 3: after one client was dropped and another left, client %d did not get the next broadcast", i+1)
		}
	}
}

// receives reports whether msg arrives on got within a few seconds,
// after whatever came before it.
func (s *scene) receives(got <-chan []byte, msg string) bool {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-got:
			if !ok {
				return false
			}
			if string(m) == msg {
				return true
			}
		case <-timeout:
			return false
		}
	}
}
