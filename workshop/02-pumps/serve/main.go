// Command serve runs your connection at /ws/workshop beside the
// playground: scripts/workshop serve 2, then open the lesson's page and
// use its live panel. The server echoes what you send and, from another
// goroutine, sends the time ten times a second: two senders on one
// connection, the tutorial's concurrent write, live. With the starter,
// gorilla/websocket soon panics, and this says so.
package main

import (
	"fmt"
	"net/http"
	"time"

	pumps "wsplay/workshop/02-pumps"
	"wsplay/workshop/internal/serve"
)

func main() {
	h := pumps.Handler(
		func(c *pumps.Conn) {
			go func() {
				defer serve.Recover("the clock's Send")
				for t := range time.Tick(100 * time.Millisecond) {
					if !c.Send(fmt.Appendf(nil, "clock %s", t.Format("15:04:05.0"))) {
						return // the connection has ended, or is 64 messages behind
					}
				}
			}()
		},
		func(c *pumps.Conn, msg []byte) {
			defer serve.Recover("the echo's Send")
			c.Send(msg)
		})
	serve.Main(serve.Exercise{
		N: 2, What: "your pumps at /ws/workshop (an echo, and a clock from another goroutine)",
		Routes: map[string]http.Handler{"/ws/workshop": h},
		Panel:  serve.Panel{Socket: "/ws/workshop"},
	})
}
