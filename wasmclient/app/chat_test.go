package app

import (
	"cmp"
	"fmt"
	"slices"
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
	connects int // times the state became Connected
	lines    []ChatLine
	acks     map[string]uint64
	users    []string
	typing   []string
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

func (r *chatRecorder) ChatAppend(l ChatLine) {
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.mu.Unlock()
}
func (r *chatRecorder) ChatAck(id string, seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.acks == nil {
		r.acks = map[string]uint64{}
	}
	r.acks[id] = seq
}
func (r *chatRecorder) ChatUsers(u []string)  { r.mu.Lock(); r.users = u; r.mu.Unlock() }
func (r *chatRecorder) ChatTyping(u []string) { r.mu.Lock(); r.typing = u; r.mu.Unlock() }
func (r *chatRecorder) ChatError(m string)    { r.mu.Lock(); r.errs = append(r.errs, m); r.mu.Unlock() }

func (r *chatRecorder) getState() ConnState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *chatRecorder) getUsers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.users)
}

func (r *chatRecorder) getTyping() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.typing)
}

// texts returns the contents of the text lines from others, and of the
// user's own acknowledged ones, with their seqs, in the room's order (the
// order of seqs: one's own line is shown where it was typed, which may be
// before a message the server stored first).
func (r *chatRecorder) texts() (contents []string, seqs []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	type line struct {
		content string
		seq     uint64
	}
	var lines []line
	for _, l := range r.lines {
		if l.Kind != shared.TypeText {
			continue
		}
		seq := l.Seq
		if l.Pending {
			s, ok := r.acks[l.ID]
			if !ok {
				continue
			}
			seq = s
		}
		lines = append(lines, line{l.Content, seq})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.seq, b.seq) })
	for _, l := range lines {
		contents = append(contents, l.content)
		seqs = append(seqs, l.seq)
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

func TestChatRejectsBadNamesBeforeConnecting(t *testing.T) {
	t.Parallel()
	_, err := NewChat(NewLoop(), &chatRecorder{}, "ws://127.0.0.1:1/ws/chat", "../../x", "ada")
	assert.ErrorContains(t, err, "room name")
	_, err = NewChat(NewLoop(), &chatRecorder{}, "ws://127.0.0.1:1/ws/chat", "general", "<img onerror=x>")
	assert.ErrorContains(t, err, "username")
}
