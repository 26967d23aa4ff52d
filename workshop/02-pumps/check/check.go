// Package check is the checker of exercise 2: it runs a learner's
// connection (read pump, write pump, Send) behind a real HTTP server on a
// loopback port, with real WebSocket clients, one subtest per task.
package check

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/workshop/internal/watch"

	"wsplay/workshop/internal/tasks"
)

// Sender is what the checker needs of a learner's connection.
type Sender interface {
	Send(msg []byte) bool
}

// Subject is the code under check, adapted to the checker by a few
// lines in the test file that calls Run.
type Subject struct {
	// Handler is the learner's Handler.
	Handler func(onOpen func(Sender), onMessage func(Sender, []byte)) http.Handler
	// SetTiming sets the package's PongWait and PingPeriod.
	SetTiming func(pongWait, pingPeriod time.Duration)
}

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"one writer per connection", "Send must not write: make it put the message on c.send, and let writePump, the only goroutine that writes, take it from there"},
	{"pings, and a deadline for silent clients", "writePump pings every PingPeriod (conn.WriteControl(websocket.PingMessage, ...)); readPump sets a read deadline of PongWait and moves it on in a pong handler (conn.SetPongHandler)"},
	{"nothing left behind", "when readPump returns, close a channel (done) that writePump selects on, so that it returns too; and stop the ticker"},
}

const (
	pongWait   = 1500 * time.Millisecond
	pingPeriod = 500 * time.Millisecond
)

// Run checks s task by task.
func Run(t *testing.T, s Subject) {
	s.SetTiming(pongWait, pingPeriod)
	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t)
		})
	}
	task(1, func(t *testing.T) { oneWriter(t, s) })
	task(2, func(t *testing.T) { pings(t, s) })
	task(3, func(t *testing.T) { nothingLeft(t, s) })
}

// server starts the learner's handler behind a listener whose
// connections notice two writes at the same time.
func server(t *testing.T, h http.Handler) (url string, overlaps func() int64) {
	srv := watch.Start(t, h)
	return srv.WSURL(""), srv.Overlaps
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("could not open a WebSocket: %v (the handler must upgrade the request)", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// safely calls Send, turning a panic (gorilla's "concurrent write to
// websocket connection") into a recorded failure.
func safely(c Sender, msg []byte, panicked *atomic.Value) (sent bool) {
	defer func() {
		if r := recover(); r != nil {
			panicked.Store(fmt.Sprint(r))
		}
	}()
	return c.Send(msg)
}

func oneWriter(t *testing.T, s Subject) {
	var panicked atomic.Value
	var accepted atomic.Int64
	opened := make(chan Sender, 1)
	h := s.Handler(func(c Sender) { opened <- c }, func(c Sender, msg []byte) {
		if safely(c, msg, &panicked) { // echo, from the read pump
			accepted.Add(1)
		}
	})
	url, overlaps := server(t, h)
	client := dial(t, url)
	var conn Sender
	select {
	case conn = <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("Task 1: the handler did not call onOpen within 5 s")
	}
	// Eight goroutines send while the client's messages are echoed.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 6 {
				if safely(conn, fmt.Appendf(nil, "from goroutine %d: %d", g, i), &panicked) {
					accepted.Add(1)
				}
			}
		})
	}
	for i := range 10 {
		if err := client.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "echo %d", i)); err != nil {
			t.Fatalf("Task 1: could not send: %v", err)
		}
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		t.Fatalf("Task 1: Send panicked: %v.\nTwo goroutines wrote to the connection at once; gorilla allows one writer", p)
	}
	if n := overlaps(); n > 0 {
		t.Fatalf("Task 1: %d writes to the connection began while another was under way: Send and the other goroutines wrote at the same time, which gorilla does not allow (it panics, or the frames interleave)", n)
	}
	// Everything Send accepted arrives.
	want := accepted.Load()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for got := int64(0); got < want; got++ {
		if _, _, err := client.ReadMessage(); err != nil {
			t.Fatalf("Task 1: Send accepted %d messages, but the client received %d before: %v", want, got, err)
		}
	}
	if want < 10 {
		t.Fatalf("Task 1: Send accepted only %d of the 58 messages (a queue of 64 holds them all)", want)
	}
}

func pings(t *testing.T, s Subject) {
	url, _ := server(t, s.Handler(nil, nil))
	// A client that reads answers every ping (gorilla's client does).
	answering := dial(t, url)
	var pingsSeen atomic.Int64
	answering.SetPingHandler(func(data string) error {
		pingsSeen.Add(1)
		return answering.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	ended := make(chan error, 1)
	go func() {
		for {
			if _, _, err := answering.ReadMessage(); err != nil {
				ended <- err
				return
			}
		}
	}()
	silent := dial(t, url) // never reads, so never answers

	time.Sleep(3 * pongWait)
	select {
	case err := <-ended:
		t.Fatalf("Task 2: a client that answered every ping was disconnected: %v", err)
	default:
	}
	if n := pingsSeen.Load(); n < 3 {
		t.Fatalf("Task 2: with PingPeriod at %v, a client connected for %v got %d pings; expected one every %v", pingPeriod, 3*pongWait, n, pingPeriod)
	}
	silent.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, _, err := silent.ReadMessage()
		var ne net.Error
		switch {
		case err == nil:
			continue
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("Task 2: a client that answered no ping for %v is still connected; with PongWait at %v the server should have dropped it", 3*pongWait, pongWait)
		}
		return // the server dropped it
	}
}

func nothingLeft(t *testing.T, s Subject) {
	url, _ := server(t, s.Handler(nil, func(c Sender, msg []byte) { c.Send(msg) }))
	// settle waits, up to 3 s, for the goroutines to be back to n.
	settle := func(n int) int {
		m := runtime.NumGoroutine()
		for deadline := time.Now().Add(3 * time.Second); m > n && time.Now().Before(deadline); m = runtime.NumGoroutine() {
			time.Sleep(50 * time.Millisecond)
		}
		return m
	}
	before := runtime.NumGoroutine()
	clients := make([]*websocket.Conn, 10)
	for i := range clients {
		clients[i] = dial(t, url)
		clients[i].SetReadDeadline(time.Now().Add(5 * time.Second))
		clients[i].WriteMessage(websocket.TextMessage, []byte("hello"))
		if _, _, err := clients[i].ReadMessage(); err != nil {
			t.Fatalf("Task 3: a message sent to be echoed did not come back: %v", err)
		}
	}
	for _, c := range clients {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.Close()
	}
	if after := settle(before); after > before {
		t.Fatalf("Task 3: 10 clients connected and left, and %d goroutines are still running that were not before (a write pump that never returns, or a ticker's loop)", after-before)
	}
}
