//go:build !js

package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/playground"
)

// A card whose handshake is refused says why in the server's words (the
// browser would show nothing but 1006 otherwise): over a connection cap
// it says which, and keeps trying, and it connects by itself once there
// is room; a refusal that would repeat (a bad name) stops it.
func TestChatCardSaysWhyItWasRefused(t *testing.T) {
	cfg := playground.Config{DataDir: t.TempDir()}
	cfg.Gate.MaxConnsPerIP = 1
	srv := startServerAt(t, cfg, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hog, _, err := websocket.Dial(ctx, "ws://"+srv.Addr+"/ws/echo", nil)
	require.NoError(t, err)

	h := newChatHarness(t)
	_, rec := h.add("http://"+srv.Addr, "general", "ada")
	detail := func() string {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.detail
	}
	eventually(t, "the card says which cap refused it", func() bool {
		return strings.Contains(detail(), "refused (HTTP 429): too many connections from this address")
	})
	assert.Contains(t, detail(), "reconnecting in", "a cap may pass: it tries again")
	assert.Equal(t, 1, srv.Gate().Len(), "the refusal registered nothing")

	hog.Close(websocket.StatusNormalClosure, "")
	eventually(t, "connected once there is room", func() bool { return rec.getState() == Connected })

	// Without a token where one is required, every try repeats the
	// refusal: the card stops.
	auth := playground.Config{DataDir: t.TempDir()}
	auth.Gate.RequireAuth, auth.Gate.JWTSecret = true, strings.Repeat("s", 32)
	locked := startServerAt(t, auth, "127.0.0.1:0")
	_, bad := h.add("http://"+locked.Addr, "general", "bob")
	eventually(t, "a refusal that repeats stops the card", func() bool {
		bad.mu.Lock()
		defer bad.mu.Unlock()
		return bad.state == Disconnected && strings.Contains(bad.detail, "refused (HTTP 401)") && strings.HasSuffix(bad.detail, "not reconnecting")
	})
}
