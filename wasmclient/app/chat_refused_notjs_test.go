//go:build !js

package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
)

// A server started with a content limit lower than the client's refuses a
// line the client let through: the error names the line, which stops
// being pending, is marked refused beside the card's error that says
// why, and is not sent again on the next
// connection. The next line goes as usual.
func TestChatLineRefusedByTheServerIsMarkedAndNotResent(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	cfg.Chat.MaxContent = 20
	srv := startServerAt(t, cfg, "127.0.0.1:0")

	h := newChatHarness(t)
	ada, rec := h.add(srv.URL, "general", "ada")
	eventually(t, "joined", func() bool { return len(rec.getUsers()) == 1 })
	long := strings.Repeat("x", 30)
	h.onLoop(func() { require.NoError(t, ada.Send(long)) })
	refused := func() (ChatLine, bool) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		i := slices.IndexFunc(rec.lines, func(l ChatLine) bool { return l.Content == long })
		if i < 0 {
			return ChatLine{}, false
		}
		return rec.lines[i], rec.lines[i].Refused
	}
	eventually(t, "the line refused", func() bool { _, ok := refused(); return ok })
	line, _ := refused()
	assert.False(t, line.Pending)
	assert.Contains(t, line.Row().Class, "refused")
	assert.Empty(t, line.Row().Seq)
	rec.mu.Lock()
	assert.Contains(t, strings.Join(rec.errs, "\n"), "too_large", "the card's error says why")
	rec.mu.Unlock()
	h.onLoop(func() { assert.Zero(t, ada.Pending(), "out of the outbox") })

	h.onLoop(func() { require.NoError(t, ada.Send("short")) })
	eventually(t, "the next line stored", func() bool { c, _ := rec.texts(); return slices.Contains(c, "short") })
	h.onLoop(ada.redial)
	eventually(t, "connected again", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.connects >= 2 && rec.state == Connected
	})
	c, seqs := rec.texts()
	assert.Equal(t, []string{long, "short"}, c, "the refused line is shown once, not sent again")
	assert.Equal(t, uint64(0), seqs[0], "never stored")
	line, _ = refused()
	assert.True(t, line.Refused, "still marked")
}
