//go:build !js

package app

import (
	"slices"
	"strings"
	"testing"
	"wsplay/server/servertest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -require-auth, the page's clients still work: they log in as
// guests and send their tokens; a client without one is refused.
func TestClientsUseTokensWhenTheServerRequiresThem(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	cfg.Gate.RequireAuth = true
	srv := startServerAt(t, cfg, "")
	h := newChatHarness(t)
	u, err := SocketURL(srv.URL, "/ws/chat")
	require.NoError(t, err)

	add := func(user string, withTokens bool) *chatRecorder {
		rec := &chatRecorder{}
		c, err := NewChat(h.loop, rec, u, "general", user)
		require.NoError(t, err)
		if withTokens {
			c.Tokens, err = NewTokens(srv.URL, user, HTTPPost)
			require.NoError(t, err)
		}
		h.onLoop(c.Start)
		t.Cleanup(func() { h.onLoop(c.Stop) })
		return rec
	}
	ada := add("ada", true)
	eventually(t, "ada joined with her token", func() bool { return slices.Equal(ada.getUsers(), []string{"ada"}) })

	anon := add("mallory", false)
	eventually(t, "the client without a token to be refused", func() bool {
		anon.mu.Lock()
		defer anon.mu.Unlock()
		return strings.Contains(anon.detail, "401")
	})
	assert.Equal(t, []string{"ada"}, ada.getUsers(), "mallory never joined")
}
