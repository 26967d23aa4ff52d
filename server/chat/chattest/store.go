package chattest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/shared"
)

// RunStore checks the chat.Store that newStore makes (empty, one per
// check) against the contract of chat.Store.
func RunStore(t *testing.T, newStore func(t *testing.T) chat.Store) {
	checks := []struct {
		name string
		f    func(*testing.T, chat.Store)
	}{
		{"OpenRoomKeepsItsEpoch", openRoomKeepsEpoch},
		{"AppendNumbersInOrder", appendNumbers},
		{"ResendOfAClientID", resendOfClientID},
		{"Retention", retention},
		{"MessagesAfterLimit", messagesAfterLimit},
		{"EvictsTheLeastRecentlyActive", evicts},
		{"EvictionSparesRoomsInUse", evictionSparesInUse},
		{"UnknownRoom", unknownRoom},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.f(t, newStore(t))
		})
	}
}

var storeCtx = context.Background()

func text(room, user, content, id string) shared.Message {
	return shared.Message{Type: shared.TypeText, Room: room, Username: user, Content: content, ID: id,
		Timestamp: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

func appendN(t *testing.T, s chat.Store, room string, n, keep int) []shared.Message {
	t.Helper()
	var out []shared.Message
	for i := range n {
		m, dup, err := s.AppendMessage(storeCtx, text(room, "ada", fmt.Sprint("m", i+1), fmt.Sprint("srv-", room, i+1)), false, keep)
		require.NoError(t, err)
		require.False(t, dup)
		out = append(out, m)
	}
	return out
}

func contents(ms []shared.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Content
	}
	return out
}

func openRoomKeepsEpoch(t *testing.T, s chat.Store) {
	a, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	require.NotEmpty(t, a.Epoch)
	assert.Zero(t, a.LastSeq)
	again, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	assert.Equal(t, a, again, "the same room, the same epoch")
	b, err := s.OpenRoom(storeCtx, "b", 10, nil)
	require.NoError(t, err)
	assert.NotEqual(t, a.Epoch, b.Epoch, "each room has its own epoch")
}

func appendNumbers(t *testing.T, s chat.Store) {
	_, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	got := appendN(t, s, "a", 5, 100)
	for i, m := range got {
		assert.Equal(t, uint64(i+1), m.Seq)
		assert.Equal(t, "ada", m.Username)
		assert.Equal(t, fmt.Sprint("m", i+1), m.Content)
		assert.True(t, m.Timestamp.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)), "the timestamp is kept")
	}
	st, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), st.LastSeq)
	last, err := s.LastMessages(storeCtx, "a", 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"m4", "m5"}, contents(last))
	assert.Equal(t, uint64(5), last[1].Seq)
	assert.Equal(t, shared.TypeText, last[1].Type)
	assert.Equal(t, "a", last[1].Room)
	assert.Equal(t, "srv-a5", last[1].ID)
}

func resendOfClientID(t *testing.T, s chat.Store) {
	_, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	first, dup, err := s.AppendMessage(storeCtx, text("a", "ada", "once", "c-1"), true, 100)
	require.NoError(t, err)
	require.False(t, dup)
	again, dup, err := s.AppendMessage(storeCtx, text("a", "ada", "once, resent", "c-1"), true, 100)
	require.NoError(t, err)
	assert.True(t, dup, "a resend with the same id")
	assert.Equal(t, first.Seq, again.Seq)
	assert.Equal(t, "once", again.Content, "the earlier message comes back")
	other, dup, err := s.AppendMessage(storeCtx, text("a", "bob", "mine", "c-1"), true, 100)
	require.NoError(t, err)
	assert.False(t, dup, "ids are per sender")
	assert.Equal(t, first.Seq+1, other.Seq)
	all, complete, err := s.MessagesAfter(storeCtx, "a", 0, 100)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.Equal(t, []string{"once", "mine"}, contents(all), "the resend was not stored")
}

func retention(t *testing.T, s chat.Store) {
	_, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	appendN(t, s, "a", 10, 3)
	after, complete, err := s.MessagesAfter(storeCtx, "a", 0, 100)
	require.NoError(t, err)
	assert.False(t, complete, "messages 1 to 7 are gone")
	assert.Equal(t, []string{"m8", "m9", "m10"}, contents(after))
	after, complete, err = s.MessagesAfter(storeCtx, "a", 7, 100)
	require.NoError(t, err)
	assert.True(t, complete, "everything after 7 is there")
	assert.Equal(t, []string{"m8", "m9", "m10"}, contents(after))
	after, complete, err = s.MessagesAfter(storeCtx, "a", 10, 100)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.Empty(t, after)
	last, err := s.LastMessages(storeCtx, "a", 50)
	require.NoError(t, err)
	assert.Equal(t, []string{"m8", "m9", "m10"}, contents(last))
}

func messagesAfterLimit(t *testing.T, s chat.Store) {
	_, err := s.OpenRoom(storeCtx, "a", 10, nil)
	require.NoError(t, err)
	appendN(t, s, "a", 10, 100)
	after, complete, err := s.MessagesAfter(storeCtx, "a", 2, 3)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.Equal(t, []string{"m3", "m4", "m5"}, contents(after), "the oldest after, up to the limit")
}

func evicts(t *testing.T, s chat.Store) {
	for _, room := range []string{"a", "b"} {
		_, err := s.OpenRoom(storeCtx, room, 2, nil)
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond) // stores may count activity in milliseconds
		appendN(t, s, room, 1, 100)
		time.Sleep(5 * time.Millisecond)
	}
	a, err := s.OpenRoom(storeCtx, "a", 2, nil)
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	appendN(t, s, "a", 1, 100) // a is now the most recently active
	time.Sleep(5 * time.Millisecond)
	_, err = s.OpenRoom(storeCtx, "c", 2, nil)
	require.NoError(t, err)

	b, err := s.LastMessages(storeCtx, "b", 10)
	require.NoError(t, err)
	assert.Empty(t, b, "b, the least recently active, lost its history")
	again, err := s.OpenRoom(storeCtx, "a", 3, nil)
	require.NoError(t, err)
	assert.Equal(t, a.Epoch, again.Epoch, "a kept its history")
	assert.Equal(t, uint64(2), again.LastSeq)
	reopened, err := s.OpenRoom(storeCtx, "b", 3, nil)
	require.NoError(t, err)
	assert.Zero(t, reopened.LastSeq, "b starts over")
}

func unknownRoom(t *testing.T, s chat.Store) {
	after, _, err := s.MessagesAfter(storeCtx, "nowhere", 0, 10)
	require.NoError(t, err)
	assert.Empty(t, after)
	last, err := s.LastMessages(storeCtx, "nowhere", 10)
	require.NoError(t, err)
	assert.Empty(t, last)
	_, _, err = s.AppendMessage(storeCtx, text("nowhere", "ada", "x", "c-1"), true, 10)
	assert.ErrorIs(t, err, chat.ErrRoomGone, "a message for a room that was never opened")
}

// A room in use keeps its history, however long ago its last message:
// the least recently active room not in use goes instead; with every
// other room in use, none does.
func evictionSparesInUse(t *testing.T, s chat.Store) {
	inUse := func(room string) bool { return room == "busy" }
	_, err := s.OpenRoom(storeCtx, "busy", 2, inUse)
	require.NoError(t, err)
	appendN(t, s, "busy", 3, 100)
	time.Sleep(5 * time.Millisecond)
	_, err = s.OpenRoom(storeCtx, "idle", 2, inUse)
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	_, err = s.OpenRoom(storeCtx, "new", 2, inUse)
	require.NoError(t, err)
	busy, err := s.LastMessages(storeCtx, "busy", 10)
	require.NoError(t, err)
	assert.Len(t, busy, 3, "the room in use kept its history")
	_, _, err = s.AppendMessage(storeCtx, text("idle", "ada", "x", "srv-x"), false, 100)
	assert.ErrorIs(t, err, chat.ErrRoomGone, "idle, not in use, went")

	all := func(string) bool { return true }
	_, err = s.OpenRoom(storeCtx, "crowded", 2, all)
	require.NoError(t, err)
	busy, err = s.LastMessages(storeCtx, "busy", 10)
	require.NoError(t, err)
	assert.Len(t, busy, 3, "with every room in use, none is evicted")
}
