package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

func TestNotifyThreeTabsEachGetEveryNotificationOnce(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	var tabs []*notifyTab
	for range 3 {
		tab := ts.openTab(t, "ada")
		backlog, synced := tab.synced()
		assert.Empty(t, backlog)
		assert.Zero(t, synced.Unread)
		assert.Empty(t, synced.IDs)
		tabs = append(tabs, tab)
	}
	other := ts.openTab(t, "bob")
	other.synced()

	var sent []shared.Notification
	for i := 1; i <= 5; i++ {
		n := ts.sendNote(t, "ada", fmt.Sprint("note ", i))
		assert.Equal(t, uint64(i), n.Seq)
		assert.Equal(t, "ada", n.UserID)
		assert.False(t, n.Read)
		assert.NotEmpty(t, n.ID)
		assert.Empty(t, n.From, "the API sets no sender")
		sent = append(sent, n)
	}
	for _, tab := range tabs {
		for i, want := range sent {
			m := tab.expect(shared.NotifyNotification)
			assert.Equal(t, want, *m.Notification)
			assert.Equal(t, i+1, m.Unread)
		}
	}
	for _, tab := range tabs {
		tab.quiet(100 * time.Millisecond)
	}
	other.quiet(0)
}

func TestNotifyOfflineNotificationArrivesOnConnect(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	first := ts.sendNote(t, "ada", "while you were away")
	second := ts.sendNote(t, "ada", "and this")

	tab := ts.openTab(t, "ada")
	backlog, synced := tab.synced()
	assert.Equal(t, []shared.Notification{first, second}, backlog, "oldest first")
	assert.Equal(t, uint64(2), synced.Seq)
	assert.Equal(t, 2, synced.Unread)
	assert.Equal(t, []string{first.ID, second.ID}, synced.IDs)

	live := ts.sendNote(t, "ada", "live")
	assert.Equal(t, live, tab.notification())
}

func TestNotifyMarkReadReachesEveryTabAndSurvivesReconnect(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	n1 := ts.sendNote(t, "ada", "one")
	n2 := ts.sendNote(t, "ada", "two")
	n3 := ts.sendNote(t, "ada", "three")
	tab1, tab2 := ts.openTab(t, "ada"), ts.openTab(t, "ada")
	tab1.synced()
	tab2.synced()

	tab1.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: n1.ID})
	for _, tab := range []*notifyTab{tab1, tab2} {
		r := tab.expect(shared.NotifyRead)
		assert.Equal(t, []string{n1.ID}, r.IDs)
		assert.Equal(t, 2, r.Unread)
	}
	// Marking it again changes nothing and is not broadcast.
	tab2.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: n1.ID})

	// A fresh connection gets the unread ones only.
	fresh := ts.openTab(t, "ada")
	backlog, synced := fresh.synced()
	assert.Equal(t, []uint64{2, 3}, seqsOf(backlog))
	assert.Equal(t, []string{n2.ID, n3.ID}, synced.IDs)

	// tab2 goes away; meanwhile tab1 marks everything up to n2 read.
	require.NoError(t, tab2.conn.Close(websocket.StatusNormalClosure, ""))
	tab1.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true, Seq: n2.Seq})
	r := tab1.expect(shared.NotifyRead)
	assert.True(t, r.All)
	assert.Equal(t, n2.Seq, r.Seq)
	assert.Equal(t, 1, r.Unread)
	assert.Equal(t, r, fresh.expect(shared.NotifyRead))

	// tab2 comes back, resuming after n3: nothing new, and synced says
	// only n3 is unread, so it clears n1 and n2.
	back := ts.openTab(t, "ada", "since", "3")
	backlog, synced = back.synced()
	assert.Empty(t, backlog)
	assert.Equal(t, []string{n3.ID}, synced.IDs)
	assert.Equal(t, 1, synced.Unread)
	assert.Equal(t, uint64(3), synced.Seq)

	// since=0 replays everything, with its read state.
	all := ts.openTab(t, "ada", "since", "0")
	backlog, _ = all.synced()
	require.Len(t, backlog, 3)
	assert.True(t, backlog[0].Read)
	assert.True(t, backlog[1].Read)
	assert.False(t, backlog[2].Read)

	// Mark all: everything, for every tab.
	back.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true})
	for _, tab := range []*notifyTab{tab1, fresh, back, all} {
		r := tab.expect(shared.NotifyRead)
		assert.Equal(t, n3.Seq, r.Seq)
		assert.Zero(t, r.Unread)
	}
	assert.Empty(t, ts.list(t, "ada", true))
	// Nothing left to mark: no broadcast.
	back.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true})
	tab1.quiet(100 * time.Millisecond)
}

func TestNotifyResumeWithSince(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	for i := range 5 {
		ts.sendNote(t, "ada", fmt.Sprint(i))
	}
	tests := []struct {
		name  string
		since string
		seqs  []uint64
	}{
		{"missed three", "2", []uint64{3, 4, 5}},
		{"missed none", "5", nil},
		{"from the start", "0", []uint64{1, 2, 3, 4, 5}},
		{"beyond the newest (a reset server)", "99", []uint64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := ts.openTab(t, "ada", "since", tt.since)
			backlog, synced := tab.synced()
			assert.Equal(t, tt.seqs, seqsOf(backlog))
			assert.Equal(t, uint64(5), synced.Seq)
			assert.Equal(t, 5, synced.Unread)
		})
	}
}

func TestNotifyBacklogLongerThanTheSendQueue(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Gate.Conn.SendQueue = 4
	ts := startServer(t, cfg)
	for i := range 40 {
		ts.sendNote(t, "ada", fmt.Sprint(i))
	}
	tab := ts.openTab(t, "ada")
	backlog, synced := tab.synced()
	assert.Equal(t, seqRange(1, 40), seqsOf(backlog))
	assert.Equal(t, 40, synced.Unread)
	assert.Equal(t, uint64(41), ts.sendNote(t, "ada", "live").Seq)
	assert.Equal(t, uint64(41), tab.notification().Seq)
}

func TestNotifyRetentionKeepsTheNewest(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.Retention = 5
	ts := startServer(t, cfg)
	for i := range 8 {
		ts.sendNote(t, "ada", fmt.Sprint(i))
	}
	assert.Equal(t, seqRange(4, 8), seqsOf(ts.list(t, "ada", false)))
	tab := ts.openTab(t, "ada", "since", "1")
	backlog, synced := tab.synced()
	assert.Equal(t, seqRange(4, 8), seqsOf(backlog), "what retention deleted is gone")
	assert.Equal(t, 5, synced.Unread)
}

func TestNotifyMarkingAnotherUsersNotificationIsForbidden(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	adas := ts.sendNote(t, "ada", "private")
	bob := ts.openTab(t, "bob")
	bob.synced()

	for _, id := range []string{adas.ID, "no-such-id", "<script>", strings.Repeat("x", 100)} {
		bob.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: id})
		e := bob.expect(shared.NotifyError)
		assert.Equal(t, shared.CodeForbidden, e.Code, id)
		assert.Equal(t, "not one of your notifications", e.Message, "the same answer whether the id exists or not")
	}
	// bob's mark all touches only his own.
	bob.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true})
	bob.quiet(100 * time.Millisecond)
	unread := ts.list(t, "ada", true)
	require.Len(t, unread, 1)
	assert.Equal(t, adas.ID, unread[0].ID)
}

func TestNotifyBadInputGetsAnErrorAndTheConnectionStays(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	tab := ts.openTab(t, "ada")
	tab.synced()
	tests := []struct {
		name  string
		frame string
		code  shared.ErrorCode
	}{
		{"not JSON", `read it`, shared.CodeBadJSON},
		{"no type", `{"id":"x"}`, shared.CodeUnknownType},
		{"a chat message", `{"type":"text","content":"hi"}`, shared.CodeUnknownType},
		{"a server-only type", `{"type":"read","all":true}`, shared.CodeUnknownType},
		{"mark_read without id", `{"type":"mark_read"}`, shared.CodeBadRequest},
		{"mark_read with id and all", `{"type":"mark_read","id":"x","all":true}`, shared.CodeBadRequest},
		{"poke without to", `{"type":"poke","title":"hi"}`, shared.CodeBadRequest},
		{"poke to a bad name", `{"type":"poke","to":"../bob"}`, shared.CodeBadRequest},
		{"poke title too long", `{"type":"poke","to":"bob","title":"` + strings.Repeat("x", shared.MaxNotifyTitle+1) + `"}`, shared.CodeTooLarge},
		{"poke message too long", `{"type":"poke","to":"bob","message":"` + strings.Repeat("x", shared.MaxNotifyMessage+1) + `"}`, shared.CodeTooLarge},
	}
	for i, tt := range tests {
		tab.sendRaw(websocket.MessageText, []byte(tt.frame))
		e := tab.expect(shared.NotifyError)
		assert.Equal(t, tt.code, e.Code, tt.name)
		assert.NotEmpty(t, e.Message, tt.name)
		if i == 5 {
			// wsconn.MaxStrikes in a row would close; a good message resets it.
			tab.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true})
		}
	}
	n := ts.sendNote(t, "ada", "still here")
	assert.Equal(t, n, tab.notification())
}

func TestNotifyRepeatedBadInputCloses1008(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	canary := ts.openTab(t, "ada")
	canary.synced()
	tab := ts.openTab(t, "ada")
	tab.synced()
	for range wsconn.MaxStrikes {
		tab.sendRaw(websocket.MessageText, []byte(`nope`))
	}
	for range wsconn.MaxStrikes - 1 {
		assert.Equal(t, shared.CodeBadJSON, tab.expect(shared.NotifyError).Code)
	}
	assert.Equal(t, websocket.StatusPolicyViolation, tab.closeStatus())
	n := ts.sendNote(t, "ada", "canary")
	assert.Equal(t, n, canary.notification())
}

func TestNotifyBinaryFrameCloses1003(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	tab := ts.openTab(t, "ada")
	tab.synced()
	tab.sendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	assert.Equal(t, websocket.StatusUnsupportedData, tab.closeStatus())
}

func TestNotifyRejectsBadHandshakesBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	tests := []struct{ name, query, want string }{
		{"no user id", "/ws/notifications", "bad user_id"},
		{"the chat's parameter", "/ws/notifications?username=ada", "bad user_id"},
		{"markup in user id", "/ws/notifications?user_id=%3Cb%3E", "bad user_id"},
		{"broadcast is not a user", "/ws/notifications?user_id=*", "bad user_id"},
		{"long user id", "/ws/notifications?user_id=" + strings.Repeat("u", 100), "bad user_id"},
		{"bad since", "/ws/notifications?user_id=ada&since=-1", "bad since"},
		{"since not a number", "/ws/notifications?user_id=ada&since=last", "bad since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, ts.wsURL(tt.query), nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			body, _ := io.ReadAll(resp.Body)
			assert.Contains(t, string(body), tt.want)
		})
	}
	// A plain GET with a good user id is told it is a WebSocket endpoint.
	status, body := ts.api(t, http.MethodGet, "/ws/notifications?user_id=ada", "", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "WebSocket endpoint")
	assert.Zero(t, ts.Gate().Len())
}

func TestNotifyPokeSenderIsTheConnectionsUser(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.PokeBurst = 10 // the pokes below, a refused one included
	ts := startServer(t, cfg)
	ada := ts.openTab(t, "ada")
	ada.synced()
	bob := ts.openTab(t, "bob")
	bob.synced()

	// A client that tries to name the sender: the fields are not part of
	// a poke, and the server sets From itself.
	ada.sendRaw(websocket.MessageText, []byte(`{"type":"poke","to":"bob","title":"Lunch?","message":"12:30","from":"admin","notification":{"from":"admin","user_id":"cy"}}`))
	got := bob.notification()
	assert.Equal(t, "ada", got.From)
	assert.Equal(t, "bob", got.UserID)
	assert.Equal(t, shared.PokeType, got.Type)
	assert.Equal(t, "Lunch?", got.Title)
	assert.Equal(t, "12:30", got.Message)
	ack := ada.expect(shared.NotifyPoked)
	assert.Equal(t, "bob", ack.To)
	assert.Equal(t, got.ID, ack.ID)

	// Without a title, the server makes one that names the sender.
	ada.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	assert.Equal(t, "Poke from ada", bob.notification().Title)
	ada.expect(shared.NotifyPoked)

	// A poke to someone offline waits for them, from the right sender.
	cy := ts.openTab(t, "cy")
	cy.synced()
	require.NoError(t, cy.conn.Close(websocket.StatusNormalClosure, ""))
	ada.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "cy", Message: "later"})
	ada.expect(shared.NotifyPoked)
	stored := ts.list(t, "cy", false)
	require.Len(t, stored, 1)
	assert.Equal(t, "ada", stored[0].From)

	// A name nobody has used is refused, and not remembered: made-up
	// names must not grow the store.
	ada.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "nobody", Message: "hello?"})
	e := ada.expect(shared.NotifyError)
	assert.Equal(t, shared.CodeNotFound, e.Code)
	assert.Contains(t, e.Message, `"nobody" has never connected`)
	assert.Empty(t, ts.list(t, "nobody", false))
	ada.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	ada.expect(shared.NotifyPoked) // the connection stays
}

func TestNotifyPokesAreRateLimited(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.PokeInterval, cfg.Notify.PokeBurst = time.Hour, 3 // no refill during the test
	ts := startServer(t, cfg)
	ada := ts.openTab(t, "ada")
	ada.synced()
	bob := ts.openTab(t, "bob")
	bob.synced()

	for range 5 {
		ada.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	}
	for range 3 {
		ada.expect(shared.NotifyPoked)
	}
	for range 2 {
		e := ada.expect(shared.NotifyError)
		assert.Equal(t, shared.CodeRateLimited, e.Code)
		assert.Contains(t, e.Message, "try again in")
	}
	for range 3 {
		bob.notification()
	}
	bob.quiet(100 * time.Millisecond)
	// The limit is per user, not per connection: another tab of ada's
	// (or a reconnect) does not refill it.
	ada2 := ts.openTab(t, "ada")
	ada2.synced()
	ada2.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "cy"})
	assert.Equal(t, shared.CodeRateLimited, ada2.expect(shared.NotifyError).Code)
	// And per recipient: bob has had his three, whoever sends.
	cy := ts.openTab(t, "cy")
	cy.synced()
	cy.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	e := cy.expect(shared.NotifyError)
	assert.Equal(t, shared.CodeRateLimited, e.Code)
	assert.Contains(t, e.Message, "bob is poked too often")
	cy.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "ada"})
	cy.expect(shared.NotifyPoked)
	bob.quiet(100 * time.Millisecond)
}

func TestNotifySurvivesARestart(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	first := startServer(t, cfg)
	before := first.sendNote(t, "ada", "before the restart")
	require.NoError(t, first.Close())

	second := startServer(t, cfg) // same -data directory
	tab := second.openTab(t, "ada")
	backlog, synced := tab.synced()
	assert.Equal(t, []shared.Notification{before}, backlog)
	assert.Equal(t, uint64(1), synced.Seq)
	after := second.sendNote(t, "ada", "after")
	assert.Equal(t, uint64(2), after.Seq, "the sequence continues")
	assert.Equal(t, after, tab.notification())
}

func TestNotifyAPIListAndBroadcast(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	ts.sendNote(t, "ada", "for ada")
	cy := ts.openTab(t, "cy") // connected, never had one: known too
	cy.synced()

	body := []byte(`{"user_id":"*","type":"maintenance","title":"Restart at noon","data":{"minutes": 5}}`)
	status, resp := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, body)
	require.Equal(t, http.StatusCreated, status, "%s", resp)
	var result shared.BroadcastResult
	require.NoError(t, json.Unmarshal(resp, &result))
	assert.Equal(t, shared.BroadcastResult{UserID: "*", Recipients: 2}, result)

	got := cy.notification()
	assert.Equal(t, "cy", got.UserID)
	assert.Equal(t, "maintenance", got.Type)
	assert.JSONEq(t, `{"minutes":5}`, string(got.Data))
	adas := ts.list(t, "ada", false)
	require.Len(t, adas, 2)
	assert.Equal(t, "Restart at noon", adas[1].Title)
	assert.NotEqual(t, got.ID, adas[1].ID, "each user has their own copy")
	assert.Empty(t, ts.list(t, "dan", false), "an unknown user has none, and that is fine")

	cy.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: got.ID})
	cy.expect(shared.NotifyRead)
	assert.Len(t, ts.list(t, "cy", false), 1)
	assert.Empty(t, ts.list(t, "cy", true))

	// Notifications for a user nobody knows yet are stored for later.
	n := ts.sendNote(t, "dan", "welcome")
	assert.Equal(t, uint64(1), n.Seq)
	assert.Equal(t, []shared.Notification{n}, ts.list(t, "dan", true))
}

func TestNotifyAPIErrors(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	good := `{"user_id":"ada","title":"hi"}`
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		code   shared.ErrorCode
	}{
		{"no token", "POST", "", "", good, 401, shared.CodeUnauthorized},
		{"wrong token", "POST", "", "wrong-token-0123456789", good, 401, shared.CodeUnauthorized},
		{"token prefix", "POST", "", testAdminToken[:10], good, 401, shared.CodeUnauthorized},
		{"list without token", "GET", "?user_id=ada", "", "", 401, shared.CodeUnauthorized},
		{"PUT", "PUT", "", testAdminToken, good, 405, shared.CodeMethodNotAllowed},
		{"DELETE without token", "DELETE", "", "", "", 405, shared.CodeMethodNotAllowed},
		{"empty body", "POST", "", testAdminToken, ``, 400, shared.CodeBadJSON},
		{"not JSON", "POST", "", testAdminToken, `user_id=ada`, 400, shared.CodeBadJSON},
		{"an array", "POST", "", testAdminToken, `[` + good + `]`, 400, shared.CodeBadJSON},
		{"truncated", "POST", "", testAdminToken, `{"user_id":"ada"`, 400, shared.CodeBadJSON},
		{"trailing data", "POST", "", testAdminToken, good + `{}`, 400, shared.CodeBadJSON},
		{"wrong field type", "POST", "", testAdminToken, `{"user_id":7,"title":"hi"}`, 400, shared.CodeBadJSON},
		{"unknown field", "POST", "", testAdminToken, `{"user_id":"ada","title":"hi","from":"admin"}`, 400, shared.CodeBadJSON},
		{"no user_id", "POST", "", testAdminToken, `{"title":"hi"}`, 400, shared.CodeBadRequest},
		{"bad user_id", "POST", "", testAdminToken, `{"user_id":"../ada","title":"hi"}`, 400, shared.CodeBadRequest},
		{"no title", "POST", "", testAdminToken, `{"user_id":"ada","message":"body"}`, 400, shared.CodeBadRequest},
		{"blank title", "POST", "", testAdminToken, `{"user_id":"ada","title":"  "}`, 400, shared.CodeBadRequest},
		{"bad type", "POST", "", testAdminToken, `{"user_id":"ada","title":"hi","type":"<b>"}`, 400, shared.CodeBadRequest},
		{"title too long", "POST", "", testAdminToken, `{"user_id":"ada","title":"` + strings.Repeat("t", shared.MaxNotifyTitle+1) + `"}`, 400, shared.CodeBadRequest},
		{"body over 64 KiB", "POST", "", testAdminToken, `{"user_id":"ada","title":"hi","data":"` + strings.Repeat("d", 64<<10) + `"}`, 413, shared.CodeTooLarge},
		{"list without user_id", "GET", "", testAdminToken, "", 400, shared.CodeBadRequest},
		{"list broadcast", "GET", "?user_id=*", testAdminToken, "", 400, shared.CodeBadRequest},
		{"list bad unread", "GET", "?user_id=ada&unread=maybe", testAdminToken, "", 400, shared.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := ts.api(t, tt.method, "/api/notifications"+tt.path, tt.token, []byte(tt.body))
			assert.Equal(t, tt.status, status, "%s", body)
			e := apiErrorOf(t, body)
			assert.Equal(t, tt.code, e.Code)
			assert.NotEmpty(t, e.Message)
			assert.NotContains(t, e.Message, testAdminToken)
		})
	}
	assert.Empty(t, ts.list(t, "ada", false), "no bad request stored anything")

	// Bearer, not Basic; and the 401 says how to authenticate.
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/notifications?user_id=ada", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")

	// Data may be any JSON value, and is stored compacted; null is none.
	status, body := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, []byte(`{"user_id":"ada","title":"hi","data":[1, 2]}`))
	require.Equal(t, http.StatusCreated, status)
	assert.Contains(t, string(body), `"data":[1,2]`)
	status, body = ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, []byte(`{"user_id":"ada","title":"hi","data":null}`))
	require.Equal(t, http.StatusCreated, status)
	assert.NotContains(t, string(body), `"data"`)
	assert.Contains(t, string(body), `"type":"info"`, "the default type")
}

// -notify-max-users over HTTP and the socket: once every user the store
// may keep has notifications, a notification for a new user gets 503
// unavailable and nothing is stored; known users go on as before, and a
// new user who connects is served, only not kept for broadcasts.
func TestNotifyStoreFullRefusesNewUsersOnly(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.MaxUsers = 2
	ts := startServer(t, cfg)
	ts.sendNote(t, "ann", "one")
	ts.sendNote(t, "ben", "two")

	status, body := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken,
		[]byte(`{"user_id":"cat","type":"test","title":"three","message":"m"}`))
	assert.Equal(t, http.StatusServiceUnavailable, status, "%s", body)
	e := apiErrorOf(t, body)
	assert.Equal(t, shared.CodeUnavailable, e.Code)
	assert.Contains(t, e.Message, "-notify-max-users")
	assert.Empty(t, ts.list(t, "cat", false))

	ann := ts.openTab(t, "ann")
	ann.synced()
	ts.sendNote(t, "ann", "four")
	assert.Equal(t, "four", ann.notification().Title)

	cat := ts.openTab(t, "cat")
	backlog, synced := cat.synced()
	assert.Empty(t, backlog)
	assert.Zero(t, synced.Seq)
	status, resp := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken,
		[]byte(`{"user_id":"*","type":"test","title":"to all"}`))
	require.Equal(t, http.StatusCreated, status, "%s", resp)
	var b shared.BroadcastResult
	require.NoError(t, json.Unmarshal(resp, &b))
	assert.Equal(t, 2, b.Recipients, "ann and ben, the users kept")
	assert.Equal(t, "to all", ann.notification().Title)
	cat.quiet(100 * time.Millisecond)
}

func TestNotifyGeneratedAdminTokenIsLoggedOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	s := startServerWith(t, cfg, servertest.Options{Log: &lockedWriter{w: &logs, mu: &mu}, LogLevel: slog.LevelInfo})
	require.Len(t, s.AdminToken(), 26)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, strings.Count(logs.String(), s.AdminToken()))
	assert.Contains(t, logs.String(), "level=INFO")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNotifyAdminTokenConfig(t *testing.T) {
	t.Parallel()
	env := func(k string) string {
		if k == "WSPLAY_ADMIN_TOKEN" {
			return "from-the-environment-0123"
		}
		return ""
	}
	cfg, err := parseConfig(nil, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "from-the-environment-0123", cfg.Notify.AdminToken)
	cfg, err = parseConfig([]string{"-admin-token", "from-the-command-line"}, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "from-the-command-line", cfg.Notify.AdminToken, "a flag wins over the environment")
	_, err = parseConfig([]string{"-admin-token", "short"}, env, io.Discard)
	assert.ErrorContains(t, err, "at least 16")
	assert.NotContains(t, err.Error(), "short", "the error does not repeat the token")
}

// A notification that would not fit a frame as sent is refused with 413
// and its size, though its body is within the API's 64 KiB: data of
// 6,000 '<' is 6 KB posted and 36 KB encoded (a '<' goes as \u003c).
// One that fits reaches a client at the default read limit.
func TestNotifyOverAFrameIsRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	tab := dialAtDefaultLimit(t, ts, notifyQuery("ada"))
	post := func(data string) (int, []byte) {
		body, err := json.Marshal(map[string]any{"user_id": "ada", "title": "big", "data": map[string]string{"s": data}})
		require.NoError(t, err)
		return ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, body)
	}
	status, body := post(strings.Repeat("<", 6000))
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%s", body)
	e := apiErrorOf(t, body)
	assert.Equal(t, shared.CodeTooLarge, e.Code)
	assert.Contains(t, e.Message, fmt.Sprintf("the limit is %d", shared.MaxNotifyFrame))

	status, body = post(strings.Repeat("<", 5000)) // 30 KB encoded
	require.Equal(t, http.StatusCreated, status, "%s", body)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, data, err := tab.Read(ctx)
		require.NoError(t, err, "at the default read limit")
		m, err := shared.DecodeNotify(data)
		require.NoError(t, err)
		if m.Type == shared.NotifyNotification {
			assert.Equal(t, "big", m.Notification.Title)
			assert.LessOrEqual(t, len(data), shared.MaxFrame)
			return
		}
	}
}
