package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/notify"
	"wsplay/shared"
)

// A Service of the zero Config with no dependencies: notifications in
// memory behind a gate of its own. A tab gets what is stored, then live
// ones; marking read reaches it; the HTTP API, with no admin token set,
// refuses everyone.
func TestZeroServiceDelivers(t *testing.T) {
	t.Parallel()
	svc, err := notify.New(notify.Config{}, notify.Deps{})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/ws/notifications", svc)
	mux.Handle("/api/notifications", svc.APIHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, svc.Shutdown(ctx))
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	before, err := svc.Notify(ctx, shared.Notification{UserID: "ada", Type: "info", Title: "while away"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), before.Seq)

	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/notifications?user_id=ada", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	next := func() shared.NotifyMessage {
		t.Helper()
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		m, err := shared.DecodeNotify(data)
		require.NoError(t, err)
		return m
	}
	m := next()
	require.Equal(t, shared.NotifyNotification, m.Type)
	assert.Equal(t, "while away", m.Notification.Title)
	m = next()
	require.Equal(t, shared.NotifySynced, m.Type)
	assert.Equal(t, 1, m.Unread)

	live, err := svc.Notify(ctx, shared.Notification{UserID: "ada", Type: "info", Title: "live"})
	require.NoError(t, err)
	m = next()
	require.Equal(t, shared.NotifyNotification, m.Type)
	assert.Equal(t, live.ID, m.Notification.ID)

	b, _ := shared.EncodeNotify(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true})
	require.NoError(t, c.Write(ctx, websocket.MessageText, b))
	m = next()
	assert.Equal(t, shared.NotifyRead, m.Type)
	assert.Zero(t, m.Unread)

	resp, err := http.Post(srv.URL+"/api/notifications", "application/json", strings.NewReader(`{"user_id":"ada","title":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no admin token set: nobody may use the API")
}

// Every frame of a notification backlog fits shared.MaxFrame: a user
// with 1,200 unread notifications (whose ids alone take 35 KB) gets them
// at coder/websocket's default read limit, each in a frame of its own,
// then synced in pages whose ids together are every unread one.
func TestLongBacklogFitsTheDefaultReadLimit(t *testing.T) {
	t.Parallel()
	const n = 1200
	svc, err := notify.New(notify.Config{Retention: 2 * n}, notify.Deps{})
	require.NoError(t, err)
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, svc.Shutdown(ctx))
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := map[string]bool{}
	for i := range n {
		note, err := svc.Notify(ctx, shared.Notification{UserID: "ada", Type: "info", Title: fmt.Sprint("note ", i)})
		require.NoError(t, err)
		ids[note.ID] = true
	}

	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/?user_id=ada", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	notes, pages := 0, 0
	unread := map[string]bool{}
	for {
		_, data, err := c.Read(ctx) // at the default read limit
		require.NoError(t, err)
		require.LessOrEqual(t, len(data), shared.MaxFrame)
		m, err := shared.DecodeNotify(data)
		require.NoError(t, err)
		if m.Type == shared.NotifyNotification {
			require.Zero(t, pages, "every notification before synced")
			notes++
			continue
		}
		require.Equal(t, shared.NotifySynced, m.Type)
		pages++
		assert.Equal(t, n, m.Unread)
		assert.EqualValues(t, n, m.Seq)
		for _, id := range m.IDs {
			unread[id] = true
		}
		if !m.More {
			break
		}
	}
	assert.Equal(t, n, notes)
	assert.Greater(t, pages, 1, "synced came in pages")
	assert.Equal(t, ids, unread, "the pages' ids together are every unread one")
}
