package main

import (
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FAULTS row 23, in process: the per-user cap counts a user's connections
// on every endpoint, the per-address cap every connection from it, the
// total cap all of them; each refusal is an HTTP answer before the
// upgrade with Retry-After, and a connection that ends gives its place
// back.
func TestFault23_CapsAreCheckedBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser = 5, 2
	ts := startServer(t, cfg)

	refused := func(path string, want int, reason string) {
		t.Helper()
		resp, body := ts.rawHandshake(t, path, nil)
		assert.Equal(t, want, resp.StatusCode, "%s: %s", path, body)
		assert.Contains(t, body, reason)
		assert.Equal(t, "10", resp.Header.Get("Retry-After"))
	}
	ada1 := ts.joinChat(t, "caps", "ada")
	ts.openTab(t, "ada")
	refused(chatQuery("caps", "ada"), http.StatusTooManyRequests, "for this user")
	refused(notifyQuery("ada"), http.StatusTooManyRequests, "for this user")
	ts.dial(t, "/ws/echo", nil)
	ts.dial(t, "/ws/echo", nil)
	ts.joinChat(t, "caps", "bob")
	refused("/ws/echo", http.StatusTooManyRequests, "from this address")
	refused(chatQuery("caps", "cy"), http.StatusTooManyRequests, "from this address")
	eventually(t, "five sessions", func() bool { return ts.Gate().Len() == 5 })

	ada1.conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, "ada's place to be free", func() bool { return ts.Gate().Len() == 4 })
	ts.joinChat(t, "caps", "ada")

	cfg = testConfig(t)
	cfg.Gate.MaxConns = 3
	total := startServer(t, cfg)
	for range 3 {
		total.dial(t, "/ws/echo", nil)
	}
	resp, body := total.rawHandshake(t, "/ws/echo", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", body)
	assert.Contains(t, body, "too many connections")
	eventually(t, "three sessions", func() bool { return total.Gate().Len() == 3 })
}
