package serve

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Hub is the hub of workshop exercise 3 as the page's chat needs it: C is
// the exercise's client type, whose queue Queue returns.
type Hub[C any] struct {
	NewClient  func() C
	Queue      func(C) <-chan []byte
	Register   func(C) bool
	Unregister func(C) bool
	Broadcast  func([]byte) bool
	// Joined is what the hub sends the others when a client registers.
	Joined string
}

// HubChat serves the playground's /ws/chat with every room relayed by h,
// a learner's hub: each connection is one of its clients, each line the
// page sends is numbered and broadcast through it, and the hub's join
// notices become join lines. The wsplay protocol's history, resume and
// presence are left out: this shows the hub, nothing more.
func HubChat[C any](h Hub[C]) http.Handler {
	// The page offers wsplay-batch, and a browser refuses a handshake
	// whose offer is not answered; one message per frame is a valid
	// batch.
	upgrader := websocket.Upgrader{Subprotocols: []string{shared.SubprotocolBatch}}
	var mu sync.Mutex // numbers the lines in the order they go to the hub
	var seq uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("username")
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.SetReadLimit(wsconn.DefaultReadLimit) // as the server's own endpoints: past it, 1009
		// The page's chat expects a history first: an empty one.
		hello, _ := shared.Encode(shared.Message{Type: shared.TypeHistory, Room: r.URL.Query().Get("room"), Epoch: "workshop"})
		if ws.WriteMessage(websocket.TextMessage, hello) != nil {
			return
		}
		c := h.NewClient()
		if !call(func() bool { return h.Register(c) }) {
			return // the hub is stuck or stopped
		}
		done := make(chan struct{})
		go func() { // the write pump: what the hub queues for this client
			defer close(done)
			for msg := range h.Queue(c) {
				if string(msg) == h.Joined {
					msg, _ = shared.Encode(shared.Message{Type: shared.TypeJoin, Username: "someone", Timestamp: time.Now().UTC()})
				}
				ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if ws.WriteMessage(websocket.TextMessage, msg) != nil {
					ws.Close()
					return
				}
			}
		}()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				break
			}
			m, err := shared.Decode(data)
			if err != nil || m.Type != shared.TypeText {
				continue
			}
			mu.Lock()
			seq++
			out, _ := shared.Encode(shared.Message{Type: shared.TypeText, Username: user, Content: m.Content, ID: m.ID, Seq: seq, Timestamp: time.Now().UTC()})
			ok := call(func() bool { return h.Broadcast(out) })
			mu.Unlock()
			if !ok {
				break
			}
		}
		call(func() bool { return h.Unregister(c) })
		ws.Close()
		select {
		case <-done:
		case <-time.After(time.Second): // a hub that never closes the queue
		}
	})
}

// call runs f with a time limit: a learner's hub may be stuck. A call
// to a stuck hub leaves its goroutine behind, blocked for good: this is a
// learner's tool on loopback, where seeing the room freeze is the point.
func call(f func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan bool, 1)
	go func() { done <- f() }()
	select {
	case ok := <-done:
		return ok
	case <-ctx.Done():
		return false
	}
}
