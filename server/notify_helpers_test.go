package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// testAdminToken is the admin token of notifyConfig's servers.
const testAdminToken = "test-admin-token-0123456789"

// notifyConfig is testConfig with a known admin token.
func notifyConfig(t *testing.T) Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Notify.AdminToken = testAdminToken
	return cfg
}

// notifyTab is a test client of /ws/notifications, one browser tab.
type notifyTab struct {
	*testConn[shared.NotifyMessage]
}

func notifyQuery(user string, extra ...string) string {
	q := url.Values{"user_id": {user}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/ws/notifications?" + q.Encode()
}

// openTab connects as user; extra holds more query pairs, such as
// "since", "3".
func (ts *testServer) openTab(t *testing.T, user string, extra ...string) *notifyTab {
	t.Helper()
	return ts.openTabAt(t, notifyQuery(user, extra...), nil)
}

// openTabAt connects to path (/ws/notifications?…) with opts, such as a
// token in a header.
func (ts *testServer) openTabAt(t *testing.T, path string, opts *websocket.DialOptions) *notifyTab {
	t.Helper()
	conn := ts.dial(t, path, opts)
	return &notifyTab{newTestConn(t, conn, shared.DecodeNotify)}
}

func (c *notifyTab) send(m shared.NotifyMessage) {
	c.t.Helper()
	c.sendJSON(m)
}

// expect returns the next message and checks its type.
func (c *notifyTab) expect(typ shared.NotifyType) shared.NotifyMessage {
	c.t.Helper()
	m := c.next()
	require.Equal(c.t, typ, m.Type, "next message: %+v", m)
	return m
}

// synced reads the backlog up to the synced message and returns both.
func (c *notifyTab) synced() ([]shared.Notification, shared.NotifyMessage) {
	c.t.Helper()
	var backlog []shared.Notification
	for {
		m := c.next()
		switch m.Type {
		case shared.NotifyNotification:
			backlog = append(backlog, *m.Notification)
		case shared.NotifySynced:
			return backlog, m
		default:
			c.t.Fatalf("unexpected message before synced: %+v", m)
		}
	}
}

// notification returns the next message, which must be a notification.
func (c *notifyTab) notification() shared.Notification {
	c.t.Helper()
	m := c.expect(shared.NotifyNotification)
	require.NotNil(c.t, m.Notification)
	return *m.Notification
}

// api sends a request to the notification API with token (none if "")
// and returns the status and body.
func (ts *testServer) api(t *testing.T, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// sendNote sends a notification to user through the API, requiring a 201,
// and returns it as stored.
func (ts *testServer) sendNote(t *testing.T, user, title string) shared.Notification {
	t.Helper()
	body, err := json.Marshal(map[string]any{"user_id": user, "type": "test", "title": title, "message": "message of " + title})
	require.NoError(t, err)
	status, resp := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, body)
	require.Equal(t, http.StatusCreated, status, "%s", resp)
	var n shared.Notification
	require.NoError(t, json.Unmarshal(resp, &n))
	return n
}

// postNote is sendNote for other goroutines than the test's: it returns an
// error instead of failing the test.
func (ts *testServer) postNote(user, title string) (shared.Notification, error) {
	var n shared.Notification
	body, err := json.Marshal(map[string]any{"user_id": user, "title": title})
	if err != nil {
		return n, err
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/notifications", bytes.NewReader(body))
	if err != nil {
		return n, err
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return n, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return n, fmt.Errorf("POST: %d %s", resp.StatusCode, b)
	}
	return n, json.NewDecoder(resp.Body).Decode(&n)
}

// list returns the user's stored notifications through the API.
func (ts *testServer) list(t *testing.T, user string, unreadOnly bool) []shared.Notification {
	t.Helper()
	path := "/api/notifications?user_id=" + url.QueryEscape(user)
	if unreadOnly {
		path += "&unread=true"
	}
	status, resp := ts.api(t, http.MethodGet, path, testAdminToken, nil)
	require.Equal(t, http.StatusOK, status, "%s", resp)
	var out struct{ Notifications []shared.Notification }
	require.NoError(t, json.Unmarshal(resp, &out))
	return out.Notifications
}

// apiErrorOf decodes an API error body.
func apiErrorOf(t *testing.T, body []byte) shared.APIErrorDetail {
	t.Helper()
	var e shared.APIError
	require.NoError(t, json.Unmarshal(body, &e), "%s", body)
	return e.Error
}

func seqsOf(ns []shared.Notification) []uint64 {
	var out []uint64
	for _, n := range ns {
		out = append(out, n.Seq)
	}
	return out
}

// seqRange returns from, from+1, …, to.
func seqRange(from, to uint64) []uint64 {
	out := make([]uint64, 0, to-from+1)
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
