//go:build !js

package app

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"wsplay/server/servertest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tried as a user would: stop and restart the server while two clients
// chat. Both reconnect by themselves, resume, and lose nothing — neither
// what was said before nor what was typed while the server was down.
func TestChatResumesWithoutLossAcrossAServerRestart(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	srv := startServerAt(t, cfg, "127.0.0.1:0")
	addr := srv.Addr

	h := newChatHarness(t)
	ada, adaRec := h.add(srv.URL, "general", "ada")
	bob, bobRec := h.add(srv.URL, "general", "bob")
	eventually(t, "both joined", func() bool { return len(bobRec.getUsers()) == 2 && len(adaRec.getUsers()) == 2 })
	for i := 1; i <= 3; i++ {
		h.onLoop(func() { require.NoError(t, ada.Send(fmt.Sprint("before ", i))) })
	}
	eventually(t, "bob has the first three", func() bool { c, _ := bobRec.texts(); return len(c) == 3 })

	require.NoError(t, srv.Close(), "the server shuts down cleanly")
	release := servertest.HoldAddress(t, addr)
	eventually(t, "both notice", func() bool {
		return adaRec.getState() != Connected && bobRec.getState() != Connected
	})
	// Typed while the server is down: kept in the outbox.
	h.onLoop(func() { require.NoError(t, bob.Send("while down")) })
	h.onLoop(func() { assert.Equal(t, 1, bob.Pending()) })

	release()
	startServerAt(t, cfg, addr) // same data

	eventually(t, "both reconnected", func() bool { return adaRec.getState() == Connected && bobRec.getState() == Connected })
	// Bob resends his outbox after he resumes; wait for its ack, so that
	// the order of the two clients' messages below is defined.
	eventually(t, "bob's outbox acknowledged", func() bool {
		var n int
		h.onLoop(func() { n = bob.Pending() })
		return n == 0
	})
	h.onLoop(func() { require.NoError(t, ada.Send("after")) })

	want := []string{"before 1", "before 2", "before 3", "while down", "after"}
	for _, rec := range []*chatRecorder{adaRec, bobRec} {
		deadline := time.Now().Add(10 * time.Second)
		for c, _ := rec.texts(); !slices.Equal(c, want); c, _ = rec.texts() {
			if time.Now().After(deadline) {
				rec.mu.Lock()
				lines := fmt.Sprintf("%+v", rec.lines)
				rec.mu.Unlock()
				t.Fatalf("want every message once, in order: %q\nlines: %s", c, lines)
			}
			time.Sleep(5 * time.Millisecond)
		}
		_, seqs := rec.texts()
		assert.Equal(t, []uint64{1, 2, 3, 4, 5}, seqs)
	}
	h.onLoop(func() { assert.Zero(t, bob.Pending()) })
}
