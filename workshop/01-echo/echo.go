// Package echo is exercise 1: the echo handler. Edit this file; see
// README.md for the tasks, and check your work with
//
//	scripts/workshop check 1
package echo

import (
	"net/http"

	"github.com/gorilla/websocket"
)

// MaxMessage is the largest message the handler may read: 64 KiB.
const MaxMessage = 64 << 10

// Handler returns the echo endpoint.
func Handler() http.Handler {
	upgrader := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer conn.Close()

		// TODO(task 3): limit what a client may send to MaxMessage.

		for {
			// TODO(task 1): read a message and write it back; return
			// when reading fails.
			// TODO(task 2): write it back with the type it came with.
			// TODO(task 4): a text message that is not valid UTF-8
			// closes the connection with 1007.
			return
		}
	})
}
