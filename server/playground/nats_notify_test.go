package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/internal/natstest"
	"wsplay/shared"
)

// notifyTab is a /ws/notifications connection that collects what it
// receives.
type notifyTab struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan shared.NotifyMessage
}

func (n node) tab(t *testing.T, ctx context.Context, user string) *notifyTab {
	t.Helper()
	c, _, err := websocket.Dial(ctx, n.url+"/ws/notifications?"+url.Values{"user_id": {user}}.Encode(), nil)
	require.NoError(t, err)
	tab := &notifyTab{t: t, c: c, msgs: make(chan shared.NotifyMessage, 256)}
	go func() {
		defer close(tab.msgs)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if m, err := shared.DecodeNotify(data); err == nil {
				tab.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	require.Equal(t, shared.NotifySynced, tab.next().Type, "a new user's tab is synced at once")
	return tab
}

func (tab *notifyTab) next() shared.NotifyMessage {
	tab.t.Helper()
	select {
	case m, ok := <-tab.msgs:
		require.True(tab.t, ok, "the connection ended")
		return m
	case <-time.After(10 * time.Second):
		tab.t.Fatal("nothing within 10 s")
		return shared.NotifyMessage{}
	}
}

// quiet checks that nothing more arrives for a while: each message came
// once.
func (tab *notifyTab) quiet() {
	tab.t.Helper()
	select {
	case m := <-tab.msgs:
		tab.t.Errorf("one more message: %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
}

func (tab *notifyTab) send(ctx context.Context, m shared.NotifyMessage) {
	tab.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(tab.t, err)
	require.NoError(tab.t, tab.c.Write(ctx, websocket.MessageText, b))
}

// post sends a notification through n's HTTP API.
func (n node) post(t *testing.T, user, title string) shared.Notification {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user_id": user, "type": "info", "title": title, "message": "about " + title})
	req, err := http.NewRequest(http.MethodPost, "http"+strings.TrimPrefix(n.url, "ws")+"/api/notifications", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+n.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var stored shared.Notification
	require.NoError(t, json.NewDecoder(res.Body).Decode(&stored))
	return stored
}

// Notifications cross processes: one POSTed to node one reaches the
// user's tabs on both nodes, once each and with the same seq; marking it
// read on node two clears it on node one; a poke sent from node two
// reaches a user whose only tab is on node one; a tab that reconnects
// to the other node resumes with exactly what it missed.
func TestNATSNotificationsCrossNodes(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	one, two := startNode(t, ns.ClientURL()), startNode(t, ns.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	adaOne, adaTwo := one.tab(t, ctx, "ada"), two.tab(t, ctx, "ada")
	stored := one.post(t, "ada", "deploy done")
	for _, tab := range []*notifyTab{adaOne, adaTwo} {
		m := tab.next()
		require.Equal(t, shared.NotifyNotification, m.Type)
		assert.Equal(t, stored.ID, m.Notification.ID)
		assert.Equal(t, uint64(1), m.Notification.Seq)
		assert.Equal(t, 1, m.Unread)
	}

	adaTwo.send(ctx, shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: stored.ID})
	for _, tab := range []*notifyTab{adaOne, adaTwo} {
		m := tab.next()
		require.Equal(t, shared.NotifyRead, m.Type)
		assert.Equal(t, []string{stored.ID}, m.IDs)
		assert.Zero(t, m.Unread, "the badge is cleared on both nodes")
	}
	adaOne.quiet()
	adaTwo.quiet()

	bob := one.tab(t, ctx, "bob")
	adaTwo.send(ctx, shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	assert.Equal(t, shared.NotifyPoked, adaTwo.next().Type)
	poke := bob.next()
	require.Equal(t, shared.NotifyNotification, poke.Type)
	assert.Equal(t, "ada", poke.Notification.From)
	bob.quiet()

	// bob's tab goes; two notifications arrive; his tab comes back on the
	// other node, resuming from the poke's seq.
	bob.c.Close(websocket.StatusNormalClosure, "")
	one.post(t, "bob", "missed one")
	one.post(t, "bob", "missed two")
	c, _, err := websocket.Dial(ctx, two.url+"/ws/notifications?"+url.Values{"user_id": {"bob"}, "since": {"1"}}.Encode(), nil)
	require.NoError(t, err)
	defer c.CloseNow()
	var titles []string
	for {
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		m, err := shared.DecodeNotify(data)
		require.NoError(t, err)
		if m.Type == shared.NotifySynced {
			assert.Equal(t, uint64(3), m.Seq)
			break
		}
		titles = append(titles, m.Notification.Title)
	}
	assert.Equal(t, []string{"missed one", "missed two"}, titles, "exactly what was missed, on the other node")

	// A broadcast posted to node two reaches every known user's tabs,
	// wherever they are, once each.
	body, _ := json.Marshal(map[string]string{"user_id": shared.NotifyBroadcast, "type": "info", "title": "maintenance"})
	req, err := http.NewRequest(http.MethodPost, "http"+strings.TrimPrefix(two.url, "ws")+"/api/notifications", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+two.admin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var result shared.BroadcastResult
	require.NoError(t, json.NewDecoder(res.Body).Decode(&result))
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Equal(t, 2, result.Recipients, "ada and bob")
	for _, tab := range []*notifyTab{adaOne, adaTwo} {
		m := tab.next()
		require.Equal(t, shared.NotifyNotification, m.Type)
		assert.Equal(t, "maintenance", m.Notification.Title)
		tab.quiet()
	}
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	m, err := shared.DecodeNotify(data)
	require.NoError(t, err)
	assert.Equal(t, "maintenance", m.Notification.Title, "bob's tab on node two")
}
