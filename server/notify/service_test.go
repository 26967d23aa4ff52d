package notify_test

import (
	"context"
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
