package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
	"wsplay/server/store"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusedHandshake sends a handshake for path with the given headers
// (Upgrade ones included unless plain) and returns the status.
func refusedHandshake(t *testing.T, ts *testServer, path string, plain bool, h http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	if !plain {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Sec-WebSocket-Version", "13")
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// countRows runs a count query on the server's database file, as any
// reader of it could, and returns the count.
func countRows(t *testing.T, ts *testServer, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir(), store.FileName)+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(query).Scan(&n))
	return n
}

// nothingCreated checks that no room, no notification user and no
// sampler exists for the refused handshakes' "ghost", in memory or in
// the store, and that no connection is registered beyond live.
func nothingCreated(t *testing.T, ts *testServer, live int) {
	t.Helper()
	assert.Zero(t, ts.Chat().RoomCount(), "no room opened")
	rooms := countRows(t, ts, `SELECT count(*) FROM rooms WHERE name = 'ghost'`)
	users := countRows(t, ts, `SELECT count(*) FROM notify_users WHERE user_id = 'ghost'`)
	assert.Zero(t, rooms, "no room stored")
	assert.Zero(t, users, "no notification user stored")
	assert.Zero(t, ts.Dashboard().Running(), "no dashboard sampler started")
	assert.Equal(t, live, ts.Gate().Len(), "no connection registered")
	assert.Zero(t, ts.Metrics().Read().UsersOnline, "nobody counted online")
}

// Nothing is created, stored or started for a handshake that is refused,
// whatever the reason: every status the gate answers with, on each
// endpoint that creates something when it admits.
func TestRefusedHandshakesCreateNothing(t *testing.T) {
	t.Parallel()
	paths := []string{"/ws/chat?room=ghost&username=ghost", "/ws/notifications?user_id=ghost", "/ws/dashboard?interval=100ms"}
	type attempt struct {
		name   string
		status int
		plain  bool
		header http.Header
	}
	run := func(t *testing.T, ts *testServer, live int, attempts []attempt) {
		t.Helper()
		for _, a := range attempts {
			for _, p := range paths {
				assert.Equal(t, a.status, refusedHandshake(t, ts, p, a.plain, a.header), "%s: %s", a.name, p)
			}
		}
		nothingCreated(t, ts, live)
	}

	t.Run("400 403 401 426 405", func(t *testing.T) {
		t.Parallel()
		cfg := authConfig(t)
		ts := startServer(t, cfg)
		run(t, ts, 0, []attempt{
			{"not a handshake", http.StatusBadRequest, true, nil},
			{"foreign origin", http.StatusForbidden, false, http.Header{"Origin": {"https://evil.example"}}},
			{"no token", http.StatusUnauthorized, false, nil},
			{"forged token", http.StatusUnauthorized, false, http.Header{"Authorization": {"Bearer forged"}}},
			// The attack of the hardening issue: an Upgrade header and no
			// version used to open the room before the 426.
			{"no version", http.StatusUpgradeRequired, false, http.Header{"Sec-Websocket-Version": nil}},
			{"version 8", http.StatusUpgradeRequired, false, http.Header{"Sec-Websocket-Version": {"8"}}},
		})
		// Past every check but the upgrade itself (no key): what the
		// endpoint reserved is given back.
		// With room for one room only, so that a reservation kept would
		// show as a room nobody can open.
		cfg.Gate.RequireAuth, cfg.Chat.MaxRooms = false, 1
		cfg.DataDir = t.TempDir() // a server of its own
		open := startServer(t, cfg)
		run(t, open, 0, []attempt{{"no key", http.StatusBadRequest, false, http.Header{"Sec-Websocket-Key": nil}}})
		ada := open.joinChat(t, "general", "ada")
		ada.joined()
		for _, p := range paths {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+p, nil)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, p)
		}
		nothingCreated(t, ts, 0)
	})
	t.Run("429", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		cfg.Gate.MaxConnsPerIP = 1
		ts := startServer(t, cfg)
		ts.dial(t, "/ws/echo", nil)
		ts.expectSessions(t, 1)
		run(t, ts, 1, []attempt{{"over the per-address cap", http.StatusTooManyRequests, false, nil}})
	})
	t.Run("503", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		cfg.Gate.MaxConns = 1
		ts := startServer(t, cfg)
		ts.dial(t, "/ws/echo", nil)
		ts.expectSessions(t, 1)
		run(t, ts, 1, []attempt{{"over the total cap", http.StatusServiceUnavailable, false, nil}})

		// During shutdown, once the connections are closed but before
		// the store is.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, ts.Gate().Shutdown(ctx))
		run(t, ts, 0, []attempt{{"shutting down", http.StatusServiceUnavailable, false, nil}})
	})
	t.Run("bad query", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, testConfig(t))
		for _, p := range []string{"/ws/chat?room=ghost&username=ghost&since=x", "/ws/notifications?user_id=ghost&since=-1", "/ws/dashboard?interval=3s"} {
			assert.Equal(t, http.StatusBadRequest, refusedHandshake(t, ts, p, false, nil), p)
		}
		nothingCreated(t, ts, 0)
	})
	t.Run("too many rooms", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		cfg.Chat.MaxRooms = 1
		ts := startServer(t, cfg)
		ada := ts.joinChat(t, "general", "ada")
		ada.joined()
		for i := range 3 {
			assert.Equal(t, http.StatusServiceUnavailable,
				refusedHandshake(t, ts, fmt.Sprintf("/ws/chat?room=ghost%d&username=ghost", i), false, nil))
		}
		assert.Equal(t, 1, countRows(t, ts, `SELECT count(*) FROM rooms`), "only general is stored")
		assert.Equal(t, 1, ts.Chat().RoomCount())
	})
}
