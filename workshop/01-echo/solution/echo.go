// Package solution is the reference solution of exercise 1: an echo
// handler that upgrades, limits what it reads, checks text for UTF-8 and
// answers every message with the same message, of the same type.
package solution

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// MaxMessage is the largest message the handler reads: 64 KiB.
const MaxMessage = 64 << 10

// Handler returns the echo endpoint.
func Handler() http.Handler {
	upgrader := websocket.Upgrader{} // same-origin only: its default CheckOrigin
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer conn.Close()
		// Task 3: past the limit, gorilla closes with 1009 and the read fails.
		conn.SetReadLimit(MaxMessage)
		for {
			// Task 1: one goroutine reads and writes: a plain echo loop
			// needs no other.
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return // the peer closed, or the limit was passed
			}
			// Task 4: RFC 6455 requires text to be UTF-8; gorilla does
			// not check it.
			if typ == websocket.TextMessage && !utf8.Valid(msg) {
				bye := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "text must be UTF-8")
				conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
				return
			}
			// Task 2: the same type back.
			if err := conn.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	})
}
