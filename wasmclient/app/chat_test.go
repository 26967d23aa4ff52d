package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// chatRecorder is a ChatView that records what it is shown.
type chatRecorder struct {
	mu       sync.Mutex
	state    ConnState
	detail   string
	connects int        // times the state became Connected
	lines    []ChatLine // as a page shows them: in order, the newest version of each
	users    Presence
	typing   Typing
	errs     []string
}

func (r *chatRecorder) ChatState(s ConnState, d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == Connected && r.state != Connected {
		r.connects++
	}
	r.state, r.detail = s, d
}

// ChatShow places the line as a page would, and panics (failing the
// test) when told to put it before a line that is not shown.
func (r *chatRecorder) ChatShow(l ChatLine, before string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := func(k string) func(ChatLine) bool { return func(x ChatLine) bool { return x.Key == k } }
	r.lines = slices.DeleteFunc(r.lines, key(l.Key))
	i := len(r.lines)
	if before != "" {
		if i = slices.IndexFunc(r.lines, key(before)); i < 0 {
			panic(fmt.Sprintf("ChatShow %q before %q, which is not shown", l.Key, before))
		}
	}
	r.lines = slices.Insert(r.lines, i, l)
}
func (r *chatRecorder) ChatDrop(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = slices.DeleteFunc(r.lines, func(x ChatLine) bool { return x.Key == k })
}
func (r *chatRecorder) ChatUsers(u Presence) { r.mu.Lock(); r.users = u; r.mu.Unlock() }
func (r *chatRecorder) ChatTyping(u Typing)  { r.mu.Lock(); r.typing = u; r.mu.Unlock() }
func (r *chatRecorder) ChatError(m string)   { r.mu.Lock(); r.errs = append(r.errs, m); r.mu.Unlock() }

func (r *chatRecorder) getState() ConnState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *chatRecorder) getUsers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone([]string(r.users))
}

func (r *chatRecorder) getTyping() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone([]string(r.typing))
}

// texts returns the contents of the stored text lines, the user's own
// included once acknowledged, with their seqs, in the order shown: the
// client's order, which must be the room's.
func (r *chatRecorder) texts() (contents []string, seqs []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if l.Kind == shared.TypeText && !l.Pending {
			contents = append(contents, l.Content)
			seqs = append(seqs, l.Seq)
		}
	}
	return contents, seqs
}

// chatHarness runs a loop and chat clients against a server.
type chatHarness struct {
	t    *testing.T
	loop *Loop
}

func newChatHarness(t *testing.T) *chatHarness {
	return &chatHarness{t: t, loop: runLoop(t)}
}

// onLoop runs fn on the loop and waits for it.
func (h *chatHarness) onLoop(fn func()) { onLoop(h.loop, fn) }

func (h *chatHarness) add(serverURL, room, user string) (*Chat, *chatRecorder) {
	h.t.Helper()
	u, err := SocketURL(serverURL, "/ws/chat")
	require.NoError(h.t, err)
	rec := &chatRecorder{}
	c, err := NewChat(h.loop, rec, u, room, user)
	require.NoError(h.t, err)
	c.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}
	h.onLoop(c.Start)
	h.t.Cleanup(func() {
		h.onLoop(c.Stop)
	})
	return c, rec
}

// uniqueRoom keeps tests that share a server apart.
func uniqueRoom(t *testing.T) string {
	return fmt.Sprintf("r%d", time.Now().UnixNano()%1e12)
}

func TestChatTwoClientsTalk(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	room := uniqueRoom(t)
	ada, adaRec := h.add(url, room, "ada")
	_, bobRec := h.add(url, room, "bob")
	eventually(t, "connected", func() bool { return adaRec.getState() == Connected })
	eventually(t, "both in the user list", func() bool {
		return slices.Equal(adaRec.getUsers(), []string{"ada", "bob"}) && slices.Equal(bobRec.getUsers(), []string{"ada", "bob"})
	})

	h.onLoop(func() { require.NoError(t, ada.Send("hello bob")) })
	eventually(t, "bob sees it", func() bool { c, _ := bobRec.texts(); return slices.Equal(c, []string{"hello bob"}) })
	eventually(t, "ada's line acknowledged", func() bool { c, _ := adaRec.texts(); return slices.Equal(c, []string{"hello bob"}) })
	h.onLoop(func() { assert.Zero(t, ada.Pending()) })

	h.onLoop(ada.Typing)
	eventually(t, "bob sees ada typing", func() bool { return slices.Equal(bobRec.getTyping(), []string{"ada"}) })
	eventually(t, "the typing indicator to expire", func() bool { return len(bobRec.getTyping()) == 0 })
	assert.Empty(t, adaRec.getTyping(), "one's own typing is not shown")

	h.onLoop(func() {
		assert.Error(t, ada.Send("   "))
	})
}

// The user's line is shown where it was typed and moves, once stored,
// below a message the server stored before it: no server needed, the
// client decides.
func TestChatShowsOwnLineInTheRoomsOrder(t *testing.T) {
	t.Parallel()
	rec := &chatRecorder{}
	c, err := NewChat(NewLoop(), rec, "ws://127.0.0.1:1/ws/chat", "general", "ada")
	require.NoError(t, err)
	c.handle(shared.Message{Type: shared.TypeHistory, Epoch: "e1"})
	require.NoError(t, c.Send("mine")) // not connected: it waits in the outbox
	c.handle(shared.Message{Type: shared.TypeJoin, Username: "cy"})
	c.handle(shared.Message{Type: shared.TypeText, Username: "bob", Content: "bob's", Seq: 1, ID: "b1"})
	id := rec.lines[1].ID
	c.handle(shared.Message{Type: shared.TypeText, Username: "ada", Content: "mine", Seq: 2, ID: id})

	assert.Zero(t, c.Pending())
	contents, seqs := rec.texts()
	assert.Equal(t, []string{"bob's", "mine"}, contents)
	assert.Equal(t, []uint64{1, 2}, seqs)
	require.Len(t, rec.lines, 4)
	assert.Equal(t, KindLive, rec.lines[0].Kind, "the history, empty, then the live line")
	assert.Equal(t, shared.TypeJoin, rec.lines[1].Kind, "the join stays where it was")
}

func TestChatRejectsBadNamesBeforeConnecting(t *testing.T) {
	t.Parallel()
	_, err := NewChat(NewLoop(), &chatRecorder{}, "ws://127.0.0.1:1/ws/chat", "../../x", "ada")
	assert.ErrorContains(t, err, "room name")
	_, err = NewChat(NewLoop(), &chatRecorder{}, "ws://127.0.0.1:1/ws/chat", "general", "<img onerror=x>")
	assert.ErrorContains(t, err, "username")
}

// Chat takes batched frames: a burst from one member reaches the other
// complete and in order, although the server sends it as a few frames of
// many lines.
func TestChatTakesBatchedFrames(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	room := uniqueRoom(t)
	ada, adaRec := h.add(url, room, "ada")
	bob, bobRec := h.add(url, room, "bob")
	eventually(t, "both in the user list", func() bool {
		return slices.Equal(adaRec.getUsers(), []string{"ada", "bob"}) && slices.Equal(bobRec.getUsers(), []string{"ada", "bob"})
	})
	h.onLoop(func() {
		assert.Equal(t, shared.SubprotocolBatch, ada.socket.conn.Subprotocol(), "the server took the offer")
	})
	var want []string
	h.onLoop(func() {
		for i := range 15 { // within the message rate's burst
			want = append(want, fmt.Sprintf("line %d", i))
			require.NoError(t, bob.Send(want[i]))
		}
	})
	eventually(t, "ada sees the whole burst, in order", func() bool { c, _ := adaRec.texts(); return slices.Equal(c, want) })
}

// The client refuses a message over the server's default limit itself,
// saying how long it is and what the limit is, and shows and sends
// nothing; one at the limit the server takes.
func TestChatKeepsAMessageOverTheLimitWithTheUser(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	ada, rec := h.add(url, uniqueRoom(t), "ada")
	eventually(t, "connected", func() bool { return rec.getState() == Connected })
	var err error
	h.onLoop(func() { err = ada.Send(strings.Repeat("x", 5000)) })
	assert.EqualError(t, err, "too long: 5000 bytes; the limit is 4096")
	h.onLoop(func() { assert.Zero(t, ada.Pending()) })
	// Counted as sent: each "<" is 6 bytes of JSON, so 700 of them are
	// over, although 700 bytes as typed.
	h.onLoop(func() { err = ada.Send(strings.Repeat("<", 700)) })
	assert.EqualError(t, err, "too long: 4200 bytes; the limit is 4096")
	h.onLoop(func() { require.NoError(t, ada.Send(strings.Repeat("y", shared.DefaultMaxContent))) })
	eventually(t, "the server stores the longest message", func() bool {
		c, seqs := rec.texts()
		return len(c) == 1 && len(c[0]) == shared.DefaultMaxContent && seqs[0] > 0
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.errs {
		assert.NotContains(t, e, "too_large", "the server agrees with the client's limit")
	}
}

// sentLen counts as the server does, with json.Marshal: escapes in full.
func TestSentLenCountsAsTheServer(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "hi", `a "quote" \ back`, "<b>&</b>", "tab\tnew\nline\r\b\f\x01\x1f", "é ✓ 😀 \u2027", "\u2028\u2029", strings.Repeat("x", 4096)} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, len(b)-2, sentLen(s), "%q", s)
	}
}

// What a history brings is marked History, for the page to show without
// announcing it; what arrives after it is news, the acknowledgement of
// the user's own line included.
func TestChatMarksWhatAHistoryBrings(t *testing.T) {
	t.Parallel()
	rec := &chatRecorder{}
	c, err := NewChat(NewLoop(), rec, "ws://127.0.0.1:1/ws/chat", "general", "ada")
	require.NoError(t, err)
	require.NoError(t, c.Send("sent while away")) // not connected: it waits in the outbox
	id := rec.lines[0].ID
	c.handle(shared.Message{Type: shared.TypeHistory, Epoch: "e1", Seq: 2, Messages: []shared.Message{
		{Type: shared.TypeText, Username: "bob", Content: "old", Seq: 1, ID: "b1"},
		{Type: shared.TypeText, Username: "ada", Content: "sent while away", Seq: 2, ID: id},
	}})
	c.handle(shared.Message{Type: shared.TypeText, Username: "bob", Content: "new", Seq: 3, ID: "b2"})
	require.NoError(t, c.Send("mine"))
	c.handle(shared.Message{Type: shared.TypeText, Username: "ada", Content: "mine", Seq: 4, ID: rec.lines[4].ID})

	history := map[string]bool{}
	var order []string
	for _, l := range rec.lines {
		history[l.Content] = l.History
		order = append(order, l.Content)
	}
	assert.Equal(t, map[string]bool{"sent while away": true, "old": true, "live": false, "new": false, "mine": false}, history)
	assert.Equal(t, []string{"old", "sent while away", "live", "new", "mine"}, order, "the history in seq order, then the live line")
	assert.Zero(t, c.Pending())
}

// The live line comes once, after the first history, however often the
// client resumes: what a resume brings is shown in seq order below it.
func TestChatShowsTheLiveLineOnce(t *testing.T) {
	t.Parallel()
	rec := &chatRecorder{}
	c, err := NewChat(NewLoop(), rec, "ws://127.0.0.1:1/ws/chat", "general", "ada")
	require.NoError(t, err)
	// A long history comes in pages: the live line waits for the last.
	c.handle(shared.Message{Type: shared.TypeHistory, Epoch: "e1", More: true, Messages: []shared.Message{
		{Type: shared.TypeText, Username: "bob", Content: "one", Seq: 1}}})
	c.handle(shared.Message{Type: shared.TypeHistory, Epoch: "e1", Seq: 2, Messages: []shared.Message{
		{Type: shared.TypeText, Username: "bob", Content: "two", Seq: 2}}})
	c.handle(shared.Message{Type: shared.TypeText, Username: "bob", Content: "three", Seq: 3})
	recovered := true
	c.handle(shared.Message{Type: shared.TypeHistory, Epoch: "e1", Seq: 4, Recovered: &recovered, Messages: []shared.Message{
		{Type: shared.TypeText, Username: "bob", Content: "three", Seq: 3}, // seen: not shown again
		{Type: shared.TypeText, Username: "bob", Content: "four", Seq: 4}}})
	var rows []string
	for _, l := range rec.lines {
		rows = append(rows, l.Row().Class+":"+l.Content)
	}
	assert.Equal(t, []string{"text:one", "text:two", "live:live", "text:three", "text:four"}, rows)
}

// A history longer than a frame (50 messages of 4,000 bytes: 200 KB)
// comes in pages of at most shared.MaxFrame bytes; a newcomer, reading
// at that limit, shows every message once, in the room's order, and its
// next resume starts after the last.
func TestChatGathersALongHistory(t *testing.T) {
	url := needServer(t)
	h := newChatHarness(t)
	room := uniqueRoom(t)
	body := strings.Repeat("x", 4000)
	var senders []*Chat
	var first *chatRecorder
	for i, name := range []string{"ada", "bob", "cy"} {
		c, rec := h.add(url, room, name)
		if i == 0 {
			first = rec
		}
		eventually(t, name+" connected", func() bool { return rec.getState() == Connected })
		senders = append(senders, c)
	}
	h.onLoop(func() {
		for i := range 50 { // within each sender's burst of the message rate
			require.NoError(t, senders[i%3].Send(fmt.Sprintf("%02d %s", i, body)))
		}
	})
	var said []string
	eventually(t, "all 50 stored", func() bool { said, _ = first.texts(); return len(said) == 50 })

	dee, rec := h.add(url, room, "dee")
	eventually(t, "the newcomer shows the whole history", func() bool { c, _ := rec.texts(); return len(c) >= 50 })
	contents, seqs := rec.texts()
	assert.Equal(t, said, contents, "every message once, in the room's order")
	require.Len(t, seqs, 50)
	for i := 1; i < len(seqs); i++ {
		require.Equal(t, seqs[i-1]+1, seqs[i], "consecutive seqs")
	}
	h.onLoop(func() { assert.Equal(t, seqs[49], dee.lastSeq, "a resume starts after the last page") })
}

// A big room's user list comes in pages: the client shows the list once
// the last has come, and it holds the names of every page.
func TestChatGathersUserListPages(t *testing.T) {
	t.Parallel()
	rec := &chatRecorder{}
	c, err := NewChat(NewLoop(), rec, "ws://127.0.0.1:1/ws/chat", "general", "ada")
	require.NoError(t, err)
	c.handle(shared.Message{Type: shared.TypeUserList, Users: []string{"ada", "bob"}, More: true})
	assert.Empty(t, rec.getUsers(), "no list before the last page")
	c.handle(shared.Message{Type: shared.TypeUserList, Users: []string{"cy", "dee"}})
	assert.Equal(t, []string{"ada", "bob", "cy", "dee"}, rec.getUsers())
	// A later list replaces it whole.
	c.handle(shared.Message{Type: shared.TypeUserList, Users: []string{"ada"}})
	assert.Equal(t, []string{"ada"}, rec.getUsers())
}
