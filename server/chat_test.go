package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/wsconn"
	"wsplay/shared"
)

func TestChatJoinHistoryUserListSequence(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))

	ada := ts.joinChat(t, "general", "ada")
	j := ada.expect(shared.TypeJoin)
	assert.Equal(t, "ada", j.Username)
	h := ada.expect(shared.TypeHistory)
	assert.Empty(t, h.Messages)
	assert.NotEmpty(t, h.Epoch)
	assert.Nil(t, h.Recovered, "recovered is only set when the client asked to resume")
	assert.Equal(t, []string{"ada"}, ada.expect(shared.TypeUserList).Users)

	ada.say("hello")
	got := ada.expect(shared.TypeText)
	assert.Equal(t, "hello", got.Content)
	assert.Equal(t, "ada", got.Username)
	assert.Equal(t, "general", got.Room)
	assert.Equal(t, uint64(1), got.Seq)
	assert.NotEmpty(t, got.ID)
	assert.WithinDuration(t, time.Now(), got.Timestamp, time.Minute)

	bob := ts.joinChat(t, "general", "bob")
	assert.Equal(t, "bob", bob.expect(shared.TypeJoin).Username)
	h = bob.expect(shared.TypeHistory)
	require.Len(t, h.Messages, 1)
	assert.Equal(t, got, h.Messages[0])
	assert.Equal(t, uint64(1), h.Seq)
	assert.Equal(t, []string{"ada", "bob"}, bob.expect(shared.TypeUserList).Users)

	// Others learn of bob from the join alone: the list is not broadcast.
	assert.Equal(t, "bob", ada.expect(shared.TypeJoin).Username)
	ada.say("marker")
	assert.Equal(t, "marker", ada.expect(shared.TypeText).Content)
}

func TestChatRoomsAreIsolated(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	a := ts.joinChat(t, "room-a", "ada")
	a.joined()
	b := ts.joinChat(t, "room-b", "bob")
	b.joined()

	a.say("only in a")
	assert.Equal(t, "only in a", a.expect(shared.TypeText).Content)
	b.say("only in b")
	got := b.expect(shared.TypeText)
	assert.Equal(t, "only in b", got.Content, "room b saw room a's message")
	assert.Equal(t, uint64(1), got.Seq, "each room has its own sequence")

	var rooms struct{ Rooms []shared.RoomInfo }
	getJSON(t, ts.URL+"/api/rooms", &rooms)
	assert.Equal(t, []shared.RoomInfo{{Name: "room-a", Users: 1, Connections: 1}, {Name: "room-b", Users: 1, Connections: 1}}, rooms.Rooms)
}

func TestChatUserWithTwoTabsIsListedOnce(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	bob := ts.joinChat(t, "general", "bob")
	bob.joined()

	tab1 := ts.joinChat(t, "general", "ada")
	tab1.joined()
	assert.Equal(t, "ada", bob.expect(shared.TypeJoin).Username)

	tab2 := ts.joinChat(t, "general", "ada")
	h, users := tab2.joined()
	assert.Equal(t, shared.TypeHistory, h.Type)
	assert.Equal(t, []string{"ada", "bob"}, users.Users, "ada is listed once")
	bob.say("marker 0")
	assert.Equal(t, "marker 0", bob.expect(shared.TypeText).Content, "a second tab is not a join")

	var rooms struct{ Rooms []shared.RoomInfo }
	getJSON(t, ts.URL+"/api/rooms", &rooms)
	assert.Equal(t, []shared.RoomInfo{{Name: "general", Users: 2, Connections: 3}}, rooms.Rooms)

	// Closing one tab is not a leave; bob's next message is his own marker.
	require.NoError(t, tab1.conn.Close(websocket.StatusNormalClosure, ""))
	bob.say("marker 1")
	assert.Equal(t, "marker 1", bob.expect(shared.TypeText).Content)

	// Closing the last one is.
	require.NoError(t, tab2.conn.Close(websocket.StatusNormalClosure, ""))
	assert.Equal(t, "ada", bob.expect(shared.TypeLeave).Username)
}

func TestChatTypingIsThrottledAndNeverStored(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	bob := ts.joinChat(t, "general", "bob")
	bob.joined()
	ada.skipTo(shared.TypeJoin)

	for range 5 {
		ada.send(shared.Message{Type: shared.TypeTyping})
	}
	ada.say("done typing")
	typing := bob.expect(shared.TypeTyping)
	assert.Equal(t, "ada", typing.Username)
	assert.Zero(t, typing.Seq)
	// The four other typing messages within the throttle window were
	// dropped: the next thing bob sees is the text.
	text := bob.expect(shared.TypeText)
	assert.Equal(t, "done typing", text.Content)
	assert.Equal(t, uint64(1), text.Seq, "typing took no seq")

	cy := ts.joinChat(t, "general", "cy")
	h, _ := cy.joined()
	require.Len(t, h.Messages, 1)
	assert.Equal(t, shared.TypeText, h.Messages[0].Type)
}

func TestChatIdentityComesFromTheConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	ada.send(shared.Message{Type: shared.TypeText, Username: "admin", Content: "forged?"})
	got := ada.expect(shared.TypeText)
	assert.Equal(t, "ada", got.Username)

	ada.send(shared.Message{Type: shared.TypeTyping, Room: "elsewhere"})
	e := ada.expect(shared.TypeError)
	assert.Equal(t, shared.CodeForbidden, e.Code)
}

func TestChatResumeAfterReconnect(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	h, _ := ada.joined()
	epoch := h.Epoch
	for i := 1; i <= 5; i++ {
		ada.say(fmt.Sprint("message ", i))
		ada.expect(shared.TypeText)
	}

	tests := []struct {
		name      string
		since     string
		epoch     string
		recovered bool
		seqs      []uint64
	}{
		{"missed three", "2", epoch, true, []uint64{3, 4, 5}},
		{"missed none", "5", epoch, true, nil},
		{"from the start", "0", epoch, true, []uint64{1, 2, 3, 4, 5}},
		{"another epoch", "2", "some-old-epoch", false, []uint64{1, 2, 3, 4, 5}},
		{"a seq from the future", "99", epoch, false, []uint64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.joinChat(t, "general", "bob", "since", tt.since, "epoch", tt.epoch)
			h, _ := c.joined()
			require.NotNil(t, h.Recovered)
			assert.Equal(t, tt.recovered, *h.Recovered)
			var seqs []uint64
			for _, m := range h.Messages {
				seqs = append(seqs, m.Seq)
			}
			assert.Equal(t, tt.seqs, seqs)
			assert.Equal(t, uint64(5), h.Seq)
		})
	}
}

func TestChatResumeReportsAGapAfterRetention(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.HistoryRetention, cfg.Chat.HistoryOnJoin = 300, 2
	ts := startServer(t, cfg)
	ada := ts.joinChat(t, "general", "ada")
	h, _ := ada.joined()
	// More than the hub's in-memory tail (256), so the store answers too.
	for i := 1; i <= 400; i++ {
		ada.say(fmt.Sprint(i))
	}
	for range 400 {
		ada.expect(shared.TypeText)
	}

	// seq 50 was trimmed (only 101..400 are kept): an explicit gap.
	c := ts.joinChat(t, "general", "bob", "since", "50", "epoch", h.Epoch)
	got, _ := c.joined()
	require.NotNil(t, got.Recovered)
	assert.False(t, *got.Recovered)
	require.Len(t, got.Messages, 2, "the newest -history messages instead")
	assert.Equal(t, uint64(400), got.Messages[1].Seq)

	// seq 120 is older than the tail but still stored: served exactly.
	c = ts.joinChat(t, "general", "cy", "since", "120", "epoch", h.Epoch)
	got, _ = c.joined()
	require.NotNil(t, got.Recovered)
	assert.True(t, *got.Recovered)
	require.Len(t, got.Messages, 280)
	for i, m := range got.Messages {
		require.Equal(t, uint64(121+i), m.Seq)
	}
}

func TestChatAcknowledgedSendIsStoredOnce(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	bob := ts.joinChat(t, "general", "bob")
	bob.joined()
	ada.skipTo(shared.TypeJoin)

	ada.send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	ack := ada.expect(shared.TypeText)
	assert.Equal(t, "ada-1", ack.ID)
	assert.Equal(t, ack, bob.expect(shared.TypeText))

	// A resend after a reconnect: the sender gets the stored message back,
	// nobody else sees it again, and it takes no new seq.
	ada.send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	assert.Equal(t, ack, ada.expect(shared.TypeText))
	bob.say("marker")
	m := bob.expect(shared.TypeText)
	assert.Equal(t, "marker", m.Content)
	assert.Equal(t, uint64(2), m.Seq)

	// Another user may pick the same id: it is a different message.
	bob.send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "mine"})
	assert.Equal(t, uint64(3), bob.expect(shared.TypeText).Seq)
}

func TestChatBadInputGetsAnErrorAndTheConnectionStays(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.MaxContent = 100
	ts := startServer(t, cfg)
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()

	tests := []struct {
		name  string
		frame string
		code  shared.ErrorCode
	}{
		{"not JSON", `hello`, shared.CodeBadJSON},
		{"a JSON array", `[1]`, shared.CodeBadJSON},
		{"no type", `{"content":"x"}`, shared.CodeUnknownType},
		{"unknown type", `{"type":"shout","content":"x"}`, shared.CodeUnknownType},
		{"a type clients may not send", `{"type":"join"}`, shared.CodeUnknownType},
		{"content of the wrong type", `{"type":"text","content":7}`, shared.CodeBadJSON},
		{"empty content", `{"type":"text","content":"  "}`, shared.CodeBadRequest},
		{"content over the limit", `{"type":"text","content":"` + strings.Repeat("x", 101) + `"}`, shared.CodeTooLarge},
		{"a bad id", `{"type":"text","content":"x","id":"<script>"}`, shared.CodeBadRequest},
		{"deep nesting", `{"type":"text","content":"x","users":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, shared.CodeBadJSON},
	}
	for i, tt := range tests {
		ada.sendRaw(websocket.MessageText, []byte(tt.frame))
		e := ada.expect(shared.TypeError)
		assert.Equal(t, tt.code, e.Code, tt.name)
		assert.NotEmpty(t, e.Content, tt.name)
		if i == 5 {
			// wsconn.MaxStrikes in a row would close; a good message resets the count.
			ada.say("reset")
			assert.Equal(t, "reset", ada.expect(shared.TypeText).Content)
		}
	}
	ada.say("still here")
	assert.Equal(t, "still here", ada.expect(shared.TypeText).Content)

	// A text refused for its content names its id; one whose id is bad
	// cannot.
	ada.sendRaw(websocket.MessageText, []byte(`{"type":"text","content":"`+strings.Repeat("x", 101)+`","id":"m-7"}`))
	e := ada.expect(shared.TypeError)
	assert.Equal(t, shared.CodeTooLarge, e.Code)
	assert.Equal(t, "m-7", e.ID)
	ada.sendRaw(websocket.MessageText, []byte(`{"type":"text","content":" ","id":"m-8"}`))
	assert.Equal(t, "m-8", ada.expect(shared.TypeError).ID)
	ada.sendRaw(websocket.MessageText, []byte(`{"type":"text","content":"","id":"<b>"}`))
	assert.Empty(t, ada.expect(shared.TypeError).ID)
}

func TestChatRepeatedBadInputCloses1008(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	canary := ts.joinChat(t, "general", "canary")
	canary.joined()
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	for range wsconn.MaxStrikes {
		ada.sendRaw(websocket.MessageText, []byte(`nope`))
	}
	for range wsconn.MaxStrikes - 1 {
		assert.Equal(t, shared.CodeBadJSON, ada.expect(shared.TypeError).Code)
	}
	assert.Equal(t, websocket.StatusPolicyViolation, ada.closeStatus())

	canary.skipTo(shared.TypeLeave)
	canary.say("canary ok")
	assert.Equal(t, "canary ok", canary.expect(shared.TypeText).Content)
}

func TestChatBinaryFrameCloses1003(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	ada.sendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	assert.Equal(t, websocket.StatusUnsupportedData, ada.closeStatus())
}

func TestChatRejectsBadNamesBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	tests := []struct{ name, query, want string }{
		{"no username", "/ws/chat?room=general", "bad username"},
		{"path in room", "/ws/chat?room=../../x&username=ada", "bad room"},
		{"markup in room", "/ws/chat?room=%3Cimg%20onerror%3Dalert(1)%3E&username=ada", "bad room"},
		{"long room", "/ws/chat?username=ada&room=" + strings.Repeat("r", 10<<10), "bad room"},
		{"markup in username", "/ws/chat?username=%3Cb%3E", "bad username"},
		{"bad since", "/ws/chat?username=ada&since=-1", "bad since"},
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
	assert.Equal(t, 0, ts.Chat().RoomCount(), "no room was opened")
}

func TestChatHistorySurvivesARestart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	first := startServer(t, cfg)
	ada := first.joinChat(t, "general", "ada")
	h, _ := ada.joined()
	ada.say("before the restart")
	ada.expect(shared.TypeText)
	require.NoError(t, first.Close())

	second := startServer(t, cfg) // same -data directory
	bob := second.joinChat(t, "general", "bob", "since", "0", "epoch", h.Epoch)
	got, _ := bob.joined()
	require.NotNil(t, got.Recovered)
	assert.True(t, *got.Recovered)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "before the restart", got.Messages[0].Content)
	bob.say("after")
	assert.Equal(t, uint64(2), bob.expect(shared.TypeText).Seq, "the sequence continues")
}

func TestChatEmptyRoomsStopTheirHub(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.RoomIdle = 50 * time.Millisecond
	ts := startServer(t, cfg)
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	assert.Equal(t, 1, ts.Chat().RoomCount())
	require.NoError(t, ada.conn.Close(websocket.StatusNormalClosure, ""))
	eventually(t, "the idle room to stop", func() bool { return ts.Chat().RoomCount() == 0 })

	// And it comes back with its history.
	bob := ts.joinChat(t, "general", "bob")
	h, _ := bob.joined()
	assert.NotEmpty(t, h.Epoch)
}

func TestChatTooManyRooms(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.MaxRooms = 2
	ts := startServer(t, cfg)
	ts.joinChat(t, "one", "ada").joined()
	ts.joinChat(t, "two", "ada").joined()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, ts.wsURL(chatQuery("three", "ada")), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	// An existing room still takes more people.
	ts.joinChat(t, "one", "bob").joined()
}

func TestChatChurnLeavesACorrectUserList(t *testing.T) {
	// Not parallel: it loads the machine, and it measures rates.
	cfg := testConfig(t)
	// 4,000 joins, 4,000 leaves and their typing come in bursts: room for
	// the observer to fall behind without being dropped.
	cfg.Gate.Conn.SendQueue = 20000
	ts := startServer(t, cfg)
	observer := ts.joinChat(t, "general", "observer")
	observer.joined()

	const clients, rounds = 200, 20
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			user := "user" + strconv.Itoa(i)
			for r := range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, _, err := websocket.Dial(ctx, ts.wsURL(chatQuery("general", user)), nil)
				if err != nil {
					cancel()
					t.Errorf("%s round %d: %v", user, r, err)
					return
				}
				// Typing spam while joined; then leave, politely or not.
				c.Write(ctx, websocket.MessageText, []byte(`{"type":"typing"}`))
				if r%2 == 0 {
					c.Close(websocket.StatusNormalClosure, "")
				} else {
					c.CloseNow()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	// The last few leaves may still be in flight: the list settles on the
	// observer alone.
	var rooms struct{ Rooms []shared.RoomInfo }
	eventually(t, "the room to hold only the observer", func() bool {
		getJSON(t, ts.URL+"/api/rooms", &rooms)
		return len(rooms.Rooms) == 1 && rooms.Rooms[0] == shared.RoomInfo{Name: "general", Users: 1, Connections: 1}
	}, func() string { return fmt.Sprintf("rooms %+v, %d sessions", rooms.Rooms, ts.Gate().Len()) })
	// Every user's joins and leaves alternate, each a session, and they
	// leave the observer alone. A marker from the observer comes after
	// every broadcast the churn caused.
	observer.say("marker")
	state := map[string]bool{}
	for {
		m := observer.next()
		switch m.Type {
		case shared.TypeJoin:
			// Above 100 members, joins and leaves come in runs.
			for _, u := range m.Users {
				require.False(t, state[u], "%s joined twice without leaving", u)
				state[u] = true
			}
		case shared.TypeLeave:
			for _, u := range m.Users {
				require.True(t, state[u], "%s left without joining", u)
				state[u] = false
			}
		case shared.TypeText:
			assert.Equal(t, "marker", m.Content)
			for user, in := range state {
				assert.False(t, in, "%s never left", user)
			}
			return
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestChatBigRoomSendsPresenceInRuns(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.PresenceBatchAbove = 1 // batch from the second member on
	cfg.Chat.PresenceBatch = 3 * time.Second
	ts := startServer(t, cfg)
	observer := ts.joinChat(t, "general", "observer")
	observer.joined()

	var users []*chatConn
	for _, name := range []string{"u1", "u2", "u3"} {
		c := ts.joinChat(t, "general", name)
		c.expect(shared.TypeHistory) // at once; the list comes with the run
		users = append(users, c)
	}
	// A message flushes what is pending first, so its readers know who
	// was there when it was said.
	observer.say("welcome")
	j := observer.expect(shared.TypeJoin)
	assert.Equal(t, []string{"u1", "u2", "u3"}, j.Users, "one message for the run")
	assert.Empty(t, j.Username, "a run of several names no single user")
	assert.Equal(t, "welcome", observer.expect(shared.TypeText).Content)
	// Each newcomer gets the run and one list, made once for all of them,
	// which holds the run's changes; then the message.
	for _, c := range users {
		got := map[shared.Type]shared.Message{}
		for range 2 {
			m := c.next()
			got[m.Type] = m
		}
		require.Contains(t, got, shared.TypeJoin)
		require.Contains(t, got, shared.TypeUserList)
		assert.Equal(t, []string{"observer", "u1", "u2", "u3"}, got[shared.TypeUserList].Users)
		assert.Equal(t, "welcome", c.expect(shared.TypeText).Content)
	}

	// With nothing said, a run goes when its time is up.
	for _, c := range users[:2] {
		require.NoError(t, c.conn.Close(websocket.StatusNormalClosure, ""))
	}
	l := observer.expect(shared.TypeLeave)
	assert.ElementsMatch(t, []string{"u1", "u2"}, l.Users)
	// Back to a small room, a change goes at once.
	require.NoError(t, users[2].conn.Close(websocket.StatusNormalClosure, ""))
	l = observer.expect(shared.TypeLeave)
	assert.Equal(t, []string{"u3"}, l.Users)
	assert.Equal(t, "u3", l.Username)
	rooms := ts.Chat().Rooms()
	require.Len(t, rooms, 1)
	assert.EqualValues(t, 1, rooms[0].Connections)
}

// Issue 15: every frame fits 32 KiB. A room's history of 50 messages of
// 4,000 bytes (200 KB) reaches a coder/websocket client at its default
// read limit (32 KiB), on joining and on resuming: each frame within
// shared.MaxFrame, every message once and in seq order.
func TestChatLongHistoryFitsTheDefaultReadLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ada := ts.joinChat(t, "general", "ada")
	h, _ := ada.joined()
	body := strings.Repeat("x", 4000)
	for i := 1; i <= 50; i++ {
		ada.say(fmt.Sprintf("%02d %s", i, body))
	}
	for range 50 {
		ada.expect(shared.TypeText)
	}

	for _, c := range []struct {
		name  string
		query string
	}{
		{"join", chatQuery("general", "bob")},
		{"resume", chatQuery("general", "cy", "since", "0", "epoch", h.Epoch)},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dialAtDefaultLimit(t, ts, c.query)
			var got []shared.Message
			pages := 0
			for {
				m := readWithin(t, conn, shared.MaxFrame)
				if m.Type != shared.TypeHistory {
					continue // bob's join
				}
				pages++
				got = append(got, m.Messages...)
				if !m.More {
					if c.name == "resume" {
						require.NotNil(t, m.Recovered)
						assert.True(t, *m.Recovered)
					}
					assert.Equal(t, uint64(50), m.Seq)
					break
				}
			}
			require.Len(t, got, 50)
			for i, m := range got {
				require.Equal(t, uint64(i+1), m.Seq, "in seq order")
				require.Equal(t, fmt.Sprintf("%02d %s", i+1, body), m.Content)
			}
			assert.Greater(t, pages, 6, "200 KB in pages of at most 32 KiB")
			assert.Equal(t, shared.TypeUserList, readWithin(t, conn, shared.MaxFrame).Type, "and the connection goes on")
		})
	}
}
