//go:build !js

// Not under Node: Go's net/http in js/wasm uses fetch only in a browser,
// and has no network under Node; the browser tests cover the login there.

package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokensLogInOnceAndReuse(t *testing.T) {
	url := needServer(t)
	tokens, err := NewTokens(url, "ada", HTTPPost)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := tokens.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(first, ".")+1, "a JWT has three parts")
	again, err := tokens.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a fresh token is reused")

	// Near its expiry it is replaced.
	tokens.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	_, err = tokens.Token(ctx)
	require.NoError(t, err)
}

func TestChatWithTokenConnects(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	room := uniqueRoom(t)
	tokens, err := NewTokens(url, "ada", HTTPPost)
	require.NoError(t, err)
	u, err := SocketURL(url, "/ws/chat")
	require.NoError(t, err)
	rec := &chatRecorder{}
	c, err := NewChat(h.loop, rec, u, room, "ada")
	require.NoError(t, err)
	c.Tokens = tokens
	h.onLoop(c.Start)
	t.Cleanup(func() { h.onLoop(c.Stop) })
	eventually(t, "joined with a token", func() bool { return slices.Equal(rec.getUsers(), []string{"ada"}) })
}
