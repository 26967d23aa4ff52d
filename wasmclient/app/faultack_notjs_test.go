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

// A fault asked for from the inspector is acknowledged by the server
// with a frame of type fault, which the inspector shows and the clients
// leave alone: no "cannot read" error on the card or the pane.
func TestFaultAcknowledgementsAreNoErrors(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	cfg.Chat.Faults, cfg.Notify.Faults = true, true
	srv := startServerAt(t, cfg, "127.0.0.1:0")

	h := newChatHarness(t)
	ada, rec := h.add(srv.URL, "general", "ada")
	frames := &frameRecorder{}
	h.onLoop(func() { ada.Inspect = frames.inspect })
	eventually(t, "joined", func() bool { return len(rec.getUsers()) == 1 })
	notes, notesRec := h.addNotifications(srv.URL, "ada")
	noteFrames := &frameRecorder{}
	h.onLoop(func() { notes.Inspect = noteFrames.inspect })

	const ask = `{"type":"fault","content":"latency=0"}`
	h.onLoop(func() { require.NoError(t, ada.Raw(ModeText, ask)) })
	h.onLoop(func() { require.NoError(t, notes.Raw(ModeText, ask)) })
	eventually(t, "chat's acknowledgement", frames.has(Received, `"type":"fault"`, "latency=0"))
	eventually(t, "the notifications' acknowledgement", noteFrames.has(Received, `"type":"fault"`, "latency=0"))
	// A message after each: had the acknowledgement been an error, it
	// would be shown by now.
	h.onLoop(func() { require.NoError(t, ada.Send("after")) })
	eventually(t, "the next line stored", func() bool { c, _ := rec.texts(); return slices.Contains(c, "after") })
	rec.mu.Lock()
	assert.Empty(t, strings.Join(rec.errs, ""), "chat (a send clears the error with \"\")")
	rec.mu.Unlock()
	notesRec.mu.Lock()
	assert.Empty(t, notesRec.errs, "notifications")
	notesRec.mu.Unlock()
}
