//go:build !js

package app

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// defaultHeartbeat is how often the chat and notification clients ping
// the server, and how long they wait for the pong. Well under the server's
// ping interval (54 s), so that either side notices a dead connection
// within about a minute.
const defaultHeartbeat = 30 * time.Second

// keepAlive pings conn every interval until ctx ends. A ping that no pong
// answers within interval closes conn, which ends the read loop; the
// client then reconnects with backoff.
//
// Why: a connection can go half-open, silently, when a NAT or proxy on the
// way forgets it or the server's host vanishes. Nothing arrives, nothing
// fails, and a client that only reads would wait forever. The server finds
// out with its own pings (Config.PongWait); this is the client's side of
// it. In the browser, Ping does nothing (see heartbeat_js.go).
func keepAlive(ctx context.Context, conn *websocket.Conn, interval time.Duration) {
	if interval <= 0 {
		interval = defaultHeartbeat
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pingCtx, cancel := context.WithTimeout(ctx, interval)
		err := conn.Ping(pingCtx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				conn.CloseNow() // no pong in time: the read loop ends and the client reconnects
			}
			return
		}
	}
}
