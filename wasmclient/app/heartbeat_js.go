package app

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// keepAlive does nothing in the browser: the WebSocket API cannot send a
// ping (coder/websocket's Ping is a no-op there). The browser answers the
// server's pings itself, so the server finds a half-open connection; the
// browser learns of it when TCP gives up. See heartbeat_notjs.go.
func keepAlive(context.Context, *websocket.Conn, time.Duration) {}
