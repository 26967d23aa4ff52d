package app

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// notifyRecorder is a NotifyView that records what it is shown.
type notifyRecorder struct {
	mu       sync.Mutex
	state    ConnState
	detail   string
	connects int // times the state became Connected
	notes    []shownNote
	unread   int
	read     []string
	poked    []string
	errs     []string
}

type shownNote struct {
	n    shared.Notification
	live bool
}

func (r *notifyRecorder) NotifyState(s ConnState, d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == Connected && r.state != Connected {
		r.connects++
	}
	r.state, r.detail = s, d
}

func (r *notifyRecorder) Notify(n Note) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, shownNote{n.Notification, n.Live})
}
func (r *notifyRecorder) Unread(c int) { r.mu.Lock(); r.unread = c; r.mu.Unlock() }
func (r *notifyRecorder) MarkedRead(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read = append(r.read, ids...)
}
func (r *notifyRecorder) Poked(to string) { r.mu.Lock(); r.poked = append(r.poked, to); r.mu.Unlock() }
func (r *notifyRecorder) NotifyError(m string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m != "" {
		r.errs = append(r.errs, m)
	}
}

// ready reports whether the client is connected with its backlog in.
func (r *notifyRecorder) ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state == Connected && r.detail == ""
}

func (r *notifyRecorder) getState() ConnState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *notifyRecorder) shown() []shownNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notes)
}

func (r *notifyRecorder) badge() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unread
}

func (r *notifyRecorder) markedRead() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.read)
}

func (r *notifyRecorder) counts() (poked, errs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.poked), len(r.errs)
}

func (r *notifyRecorder) lastError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return ""
	}
	return r.errs[len(r.errs)-1]
}

// addNotifications starts a notification client for user on the loop and
// waits until its backlog is in.
func (h *chatHarness) addNotifications(serverURL, user string) (*Notifications, *notifyRecorder) {
	h.t.Helper()
	u, err := SocketURL(serverURL, "/ws/notifications")
	require.NoError(h.t, err)
	rec := &notifyRecorder{}
	n, err := NewNotifications(h.loop, rec, u, user)
	require.NoError(h.t, err)
	n.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}
	h.onLoop(n.Start)
	h.t.Cleanup(func() { h.onLoop(n.Stop) })
	eventually(h.t, user+"'s notifications loaded", rec.ready)
	return n, rec
}

var userCounter atomic.Int64

// uniqueUser keeps tests that share a server (and its data) apart.
func uniqueUser(name string) string {
	return fmt.Sprintf("%s%d-%d", name, time.Now().UnixNano()%1e10, userCounter.Add(1))
}

// dropConnection ends n's connection from the client side, as a lost
// network would, and keeps n from reconnecting until the test calls
// ReconnectNow. (CloseNow would not do: in the browser it sends 1001,
// which the WebSocket API refuses to send, so nothing happens.)
func (h *chatHarness) dropConnection(n *Notifications) {
	h.t.Helper()
	var conn *websocket.Conn
	h.onLoop(func() {
		n.Backoff = Backoff{Min: time.Hour, Max: time.Hour, rand: func() float64 { return 0.999 }}
		conn = n.conn
	})
	require.NotNil(h.t, conn)
	conn.Close(4000, "test: connection dropped")
}

func TestNotificationsTwoTabsUpdateTogether(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, bob := uniqueUser("ada"), uniqueUser("bob")
	tab1, rec1 := h.addNotifications(url, ada)
	_, rec2 := h.addNotifications(url, ada)
	poker, pokerRec := h.addNotifications(url, bob)

	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "Lunch?", "12:30")) })
	eventually(t, "the poke acknowledged", func() bool { p, _ := pokerRec.counts(); return p == 1 })
	for _, rec := range []*notifyRecorder{rec1, rec2} {
		eventually(t, "a toast in each tab", func() bool { return len(rec.shown()) == 1 && rec.badge() == 1 })
		got := rec.shown()[0]
		assert.True(t, got.live, "a new notification is live: a toast")
		assert.Equal(t, bob, got.n.From)
		assert.Equal(t, "Lunch?", got.n.Title)
		assert.Equal(t, shared.PokeType, got.n.Type)
	}

	id := rec1.shown()[0].n.ID
	h.onLoop(func() { require.NoError(t, tab1.MarkRead(id)) })
	for _, rec := range []*notifyRecorder{rec1, rec2} {
		eventually(t, "the badge cleared in each tab", func() bool { return rec.badge() == 0 && len(rec.markedRead()) == 1 })
		assert.Equal(t, []string{id}, rec.markedRead())
	}
	assert.Empty(t, pokerRec.shown(), "the sender does not receive its own poke")
}

func TestNotificationsResumeAfterTheConnectionDrops(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, bob := uniqueUser("ada"), uniqueUser("bob")
	tab, rec := h.addNotifications(url, ada)
	poker, pokerRec := h.addNotifications(url, bob)

	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "first", "")) })
	eventually(t, "the first", func() bool { return len(rec.shown()) == 1 })

	// The network drops ada's connection; she waits before reconnecting.
	h.dropConnection(tab)
	eventually(t, "ada disconnected", func() bool { return rec.getState() == Disconnected })
	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "while away", "")) })
	eventually(t, "the second poke stored", func() bool { p, _ := pokerRec.counts(); return p == 2 })
	h.onLoop(func() {
		assert.Contains(t, tab.url(), "since=1", "resumes after what it has")
		tab.ReconnectNow()
	})
	eventually(t, "ada back", rec.ready)

	notes := rec.shown()
	require.Len(t, notes, 2, "each once")
	assert.Equal(t, "while away", notes[1].n.Title)
	assert.False(t, notes[1].live, "missed while away: listed, not toasted")
	assert.Equal(t, 2, rec.badge())
	h.onLoop(func() { assert.Equal(t, uint64(2), tab.LastSeq()) })

	h.onLoop(func() { require.NoError(t, tab.MarkAllRead()) })
	eventually(t, "everything read", func() bool { return rec.badge() == 0 && len(rec.markedRead()) == 2 })
}

func TestNotificationsLearnWhatWasReadWhileAway(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, bob := uniqueUser("ada"), uniqueUser("bob")
	away, awayRec := h.addNotifications(url, ada)
	here, hereRec := h.addNotifications(url, ada)
	poker, _ := h.addNotifications(url, bob)
	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "one", "")) })
	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "two", "")) })
	eventually(t, "both tabs have both", func() bool { return len(awayRec.shown()) == 2 && len(hereRec.shown()) == 2 })

	h.dropConnection(away)
	eventually(t, "one tab away", func() bool { return awayRec.getState() == Disconnected })
	h.onLoop(func() { require.NoError(t, here.MarkAllRead()) })
	eventually(t, "read here", func() bool { return hereRec.badge() == 0 })
	assert.Equal(t, 2, awayRec.badge(), "the tab that is away has not heard")

	h.onLoop(away.ReconnectNow)
	eventually(t, "the other tab learns on reconnect", func() bool { return awayRec.ready() && awayRec.badge() == 0 })
	assert.ElementsMatch(t, hereRec.markedRead(), awayRec.markedRead())
	assert.Len(t, awayRec.shown(), 2, "nothing shown twice")
}

func TestNotificationsPokeIsCheckedAndRateLimited(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, bob := uniqueUser("ada"), uniqueUser("bob")
	h.addNotifications(url, ada)
	poker, rec := h.addNotifications(url, bob)
	h.onLoop(func() {
		assert.ErrorContains(t, poker.Poke("<script>", "", ""), "user id")
		assert.ErrorContains(t, poker.Poke(ada, strings.Repeat("t", shared.MaxNotifyTitle+1), ""), "title")
	})
	// The server's default: three in a row, then one per second.
	for range 4 {
		h.onLoop(func() { require.NoError(t, poker.Poke(ada, "", "")) })
	}
	eventually(t, "three pokes and a refusal", func() bool { p, e := rec.counts(); return p == 3 && e == 1 })
	assert.Contains(t, rec.lastError(), "rate_limited")
	assert.Contains(t, rec.lastError(), "try again in")
}

// A poke to a name nobody has used is refused by the server, and the pane
// says why; the client goes on.
func TestNotificationsPokeToAnUnknownUserIsShownAsAnError(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, bob := uniqueUser("ada"), uniqueUser("bob")
	h.addNotifications(url, ada)
	poker, rec := h.addNotifications(url, bob)
	h.onLoop(func() { require.NoError(t, poker.Poke(uniqueUser("nobody"), "", "")) })
	eventually(t, "the refusal", func() bool { _, e := rec.counts(); return e == 1 })
	assert.Contains(t, rec.lastError(), "not_found")
	assert.Contains(t, rec.lastError(), "has never connected")
	h.onLoop(func() { require.NoError(t, poker.Poke(ada, "", "")) })
	eventually(t, "the next poke", func() bool { p, _ := rec.counts(); return p == 1 })
}

func TestNotificationsRejectBadUserIDBeforeConnecting(t *testing.T) {
	t.Parallel()
	_, err := NewNotifications(NewLoop(), &notifyRecorder{}, "ws://127.0.0.1:1/ws/notifications", "../admin")
	assert.ErrorContains(t, err, "user id")
	n, err := NewNotifications(NewLoop(), &notifyRecorder{}, "ws://127.0.0.1:1/ws/notifications", "ada")
	require.NoError(t, err)
	assert.ErrorContains(t, n.MarkAllRead(), "not connected")
}

// A synced that comes in pages ends the backlog once, with the last: the
// unread ids are those of every page, so a notification listed on an
// early page stays unread, and one on none is marked read. No server
// needed: the client decides.
func TestNotificationsGatherSyncedPages(t *testing.T) {
	t.Parallel()
	rec := &notifyRecorder{}
	n, err := NewNotifications(NewLoop(), rec, "ws://127.0.0.1:1/ws/notifications", "ada")
	require.NoError(t, err)
	n.opened()
	for i, id := range []string{"a", "b", "c"} {
		n.handle(shared.NotifyMessage{Type: shared.NotifyNotification, Unread: 2,
			Notification: &shared.Notification{ID: id, UserID: "ada", Title: id, Seq: uint64(i + 1)}})
	}
	n.handle(shared.NotifyMessage{Type: shared.NotifySynced, Seq: 3, Unread: 2, IDs: []string{"a"}, More: true})
	assert.False(t, n.synced, "not synced before the last page")
	assert.Empty(t, rec.markedRead(), "nothing marked read before the last page")
	n.handle(shared.NotifyMessage{Type: shared.NotifySynced, Seq: 3, Unread: 2, IDs: []string{"c"}})
	assert.True(t, n.synced)
	assert.Equal(t, []string{"b"}, rec.markedRead(), "only the one on no page was read")
	assert.EqualValues(t, 3, n.LastSeq())
	assert.Equal(t, 2, rec.badge())
}
