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
	cfg.Gate.JWTSecret = testJWTSecret // tokens prove identities; none are required
	cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser = 5, 2
	ts := startServer(t, cfg)

	asAda := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+goodToken(t, "ada")) }
	refused := func(path string, set func(*http.Request), want int, reason string) {
		t.Helper()
		resp, body := ts.rawHandshake(t, path, set)
		assert.Equal(t, want, resp.StatusCode, "%s: %s", path, body)
		assert.Contains(t, body, reason)
		assert.Equal(t, "10", resp.Header.Get("Retry-After"))
	}
	withToken := &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + goodToken(t, "ada")}}}
	ada1 := ts.joinChatAt(t, chatQuery("caps", ""), withToken)
	ts.openTabAt(t, "/ws/notifications", withToken)
	refused(chatQuery("caps", ""), asAda, http.StatusTooManyRequests, "for this user")
	refused("/ws/notifications", asAda, http.StatusTooManyRequests, "for this user")
	ts.dial(t, "/ws/echo", nil)
	ts.dial(t, "/ws/echo", nil)
	ts.joinChat(t, "caps", "bob")
	refused("/ws/echo", nil, http.StatusTooManyRequests, "from this address")
	refused(chatQuery("caps", "cy"), nil, http.StatusTooManyRequests, "from this address")
	eventually(t, "five sessions", func() bool { return ts.Gate().Len() == 5 })

	ada1.conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, "ada's place to be free", func() bool { return ts.Gate().Len() == 4 })
	ts.joinChatAt(t, chatQuery("caps", ""), withToken)

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
