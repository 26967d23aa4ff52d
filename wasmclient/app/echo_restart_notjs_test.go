//go:build !js

package app

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// Tried as a user would: restart the server under a connected echo
// panel. It logs the 1001, reconnects by itself with backoff (logging
// each wait), and echoes again; Enter meanwhile says why nothing went.
func TestEchoReconnectsAfterTheServerRestarts(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	srv := startServerAt(t, cfg, "127.0.0.1:0")
	addr := srv.Addr
	url, err := SocketURL(srv.URL, "/ws/echo")
	require.NoError(t, err)
	loop, rec := runLoop(t), &echoRecorder{}
	echo := NewEcho(loop, rec, url)
	echo.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}
	t.Cleanup(func() {
		loop.Post(echo.Disconnect)
		eventually(t, "the echo client to disconnect", func() bool { return rec.lastState() == Disconnected })
	})
	connect(t, loop, echo, rec)

	require.NoError(t, srv.Close())
	release := servertest.HoldAddress(t, addr)
	eventually(t, "the 1001", func() bool { return len(rec.entries(Event, "close")) == 1 })
	c := rec.entries(Event, "close")[0].Close
	assert.Equal(t, shared.CloseGoingAway, c.Code)
	assert.True(t, c.Reconnect)
	eventually(t, "a second wait: the first redial failed", func() bool { return len(rec.entries(Event, "retry")) >= 2 })
	assert.Contains(t, rec.entries(Event, "retry")[0].Text, "(attempt 1)")
	loop.Post(func() { echo.Send(ModeText, "while down") })
	eventually(t, "why nothing went", func() bool { return strings.Contains(rec.lastError(), "not connected yet") })

	release()
	startServerAt(t, cfg, addr)
	eventually(t, "connected again", func() bool { return rec.lastState() == Connected })
	loop.Post(func() { echo.Send(ModeText, "after") })
	eventually(t, "the echo", func() bool {
		got := rec.entries(Received, "text")
		return len(got) == 1 && got[0].Text == "after"
	})
	onLoop(loop, func() { assert.Zero(t, echo.Backoff.Attempts(), "reset once connected") })
}

// The page's first connection (Start) is tried again while the server is
// not there yet, and opens once it is; a Connect pressed by the user is
// not: it says it failed, and waits for the next press.
func TestEchoStartRetriesTheFirstConnection(t *testing.T) {
	cfg := servertest.CommandDefaults(t.TempDir())
	srv := startServerAt(t, cfg, "127.0.0.1:0")
	addr := srv.Addr
	url, err := SocketURL(srv.URL, "/ws/echo")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	release := servertest.HoldAddress(t, addr)

	loop, pressed := runLoop(t), &echoRecorder{}
	byHand := NewEcho(loop, pressed, url)
	loop.Post(byHand.Connect)
	eventually(t, "the pressed Connect to fail", func() bool { return len(pressed.entries(Event, "error")) == 1 })

	rec := &echoRecorder{}
	echo := NewEcho(loop, rec, url)
	echo.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}
	t.Cleanup(func() {
		loop.Post(echo.Disconnect)
		eventually(t, "the echo client to disconnect", func() bool { return rec.lastState() == Disconnected })
	})
	loop.Post(echo.Start)
	eventually(t, "a second wait: the first dial and its retry failed", func() bool { return len(rec.entries(Event, "retry")) >= 2 })

	release()
	startServerAt(t, cfg, addr)
	eventually(t, "connected", func() bool { return rec.lastState() == Connected })
	assert.Len(t, pressed.entries(Event, "error"), 1, "a pressed Connect is not retried")
	assert.Empty(t, pressed.entries(Event, "retry"))
	assert.Equal(t, Disconnected, pressed.lastState())
}
