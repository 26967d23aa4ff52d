// Command serve runs your room at /ws/workshop beside the playground:
// scripts/workshop serve 4, then open the lesson's page and use its live
// panel. The room says "tick" every second; the panel's buttons add a
// client that never reads and broadcast a burst large enough to fill its
// socket. With the starter, the burst never ends and the ticks stop: the
// whole room waits for one slow client. With your fix, the slow client
// is closed with 1008 and the others never notice.
package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	slow "wsplay/workshop/04-slow"
	"wsplay/workshop/internal/serve"
)

func main() {
	room := slow.NewRoom()
	go func() {
		for t := range time.Tick(time.Second) {
			serve.Within(2*time.Second, func() { room.Broadcast(fmt.Appendf(nil, "tick %s", t.Format("15:04:05"))) })
		}
	}()
	var (
		mu    sync.Mutex
		slows []*websocket.Conn
	)
	addSlow := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if len(slows) >= maxSlow {
			http.Error(w, fmt.Sprintf("%d clients that never read are in the room already: broadcast a burst, which lets them go", maxSlow), http.StatusTooManyRequests)
			return
		}
		ws, err := dialSlow("ws://" + r.Host + "/ws/workshop")
		if err != nil {
			http.Error(w, "the slow client could not join: "+err.Error(), http.StatusBadGateway)
			return
		}
		slows = append(slows, ws)
		fmt.Fprintf(w, "a client that never reads joined the room (%d so far)", len(slows))
	}
	burst := func(w http.ResponseWriter, _ *http.Request) {
		// Paced, two messages a millisecond: a client that reads keeps
		// up with that; one that does not fills its sockets (8 MiB is more
		// than loopback's buffers) and then its queue.
		const n, size = 2000, 4 << 10
		start := time.Now()
		done := serve.Within(5*time.Second, func() {
			for i := range n {
				msg := fmt.Appendf(nil, "burst %d/%d ", i+1, n)
				room.Broadcast(append(msg, bytes.Repeat([]byte("."), size-len(msg))...))
				time.Sleep(500 * time.Microsecond)
			}
		})
		if !done {
			fmt.Fprintf(w, "the burst has not ended after 5 s: Broadcast is waiting for a client that does not read, and the whole room with it (task 1)")
			return
		}
		fmt.Fprintf(w, "%d messages of %d bytes broadcast in %v; %s", n, size, time.Since(start).Round(time.Millisecond), slowState(&mu, &slows))
	}
	serve.Main(serve.Exercise{
		N: 4, What: "your room at /ws/workshop",
		Routes: map[string]http.Handler{
			"/ws/workshop":             room.Handler(),
			"POST /api/workshop/slow":  http.HandlerFunc(addSlow),
			"POST /api/workshop/burst": http.HandlerFunc(burst),
		},
		Panel: serve.Panel{Socket: "/ws/workshop", Actions: []serve.Action{
			{Label: "Add a client that never reads", URL: "/api/workshop/slow"},
			{Label: "Broadcast a burst of 2,000 × 4 KiB", URL: "/api/workshop/burst"},
		}},
	})
}

// maxSlow bounds the clients that never read, which each hold a socket
// and its buffers until a burst lets them go.
const maxSlow = 10

// dialSlow joins the room and never reads: once the sockets between
// it and the room are full (a few MiB on loopback), the room's writes to
// it wait.
func dialSlow(url string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	ws, _, err := d.Dial(url, nil)
	return ws, err
}

// slowState says what became of the slow clients, which read at last
// and leave: a client the room closed finds the close frame after what
// was queued before it.
func slowState(mu *sync.Mutex, slows *[]*websocket.Conn) string {
	mu.Lock()
	defer mu.Unlock()
	if len(*slows) == 0 {
		return "no client that never reads was in the room"
	}
	var says []string
	for i, ws := range *slows {
		says = append(says, fmt.Sprintf("slow client %d: %s", i+1, drain(ws)))
		ws.Close()
	}
	*slows = nil
	return strings.Join(says, "; ")
}

// drain reads what the slow client was sent, for a moment, and says how
// it ended.
func drain(ws *websocket.Conn) string {
	n := 0
	for {
		ws.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, _, err := ws.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); ok {
			return fmt.Sprintf("closed by the room with %d %q after %d messages", ce.Code, ce.Text, n)
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return fmt.Sprintf("still in the room, %d messages waiting for it; it leaves now", n)
			}
			return fmt.Sprintf("cut off without a close frame after %d messages (%v)", n, err)
		}
		n++
	}
}
