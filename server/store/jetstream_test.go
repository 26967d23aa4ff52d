package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/server/chat/chattest"
	"wsplay/server/internal/natstest"
	"wsplay/server/store"
	"wsplay/shared"
)

func newJetStreamChat(t *testing.T, srv *natstest.Server) *store.JetStreamChat {
	t.Helper()
	js, err := jetstream.New(srv.Connect(t))
	require.NoError(t, err)
	return store.NewJetStreamChat(js)
}

// The JetStream chat store meets the chat.Store contract, each check on a
// NATS server of its own.
func TestJetStreamChatConformance(t *testing.T) {
	chattest.RunStore(t, func(t *testing.T) chat.Store { return newJetStreamChat(t, natstest.Start(t)) })
}

// Two processes on one NATS server share a room: one numbering, one
// epoch, one history, and a resend through the other process is still
// taken as the message it repeats. Room names with dots and stars are
// rooms like any other.
func TestJetStreamChatIsSharedByProcesses(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nodeA, nodeB := newJetStreamChat(t, srv), newJetStreamChat(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const room = "team.*.general"
	a, err := nodeA.OpenRoom(ctx, room, 10, nil)
	require.NoError(t, err)
	b, err := nodeB.OpenRoom(ctx, room, 10, nil)
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same room on both")

	msg := func(content, id string) shared.Message {
		return shared.Message{Type: shared.TypeText, Room: room, Username: "ada", Content: content, ID: id, Timestamp: time.Now().UTC()}
	}
	first, _, err := nodeA.AppendMessage(ctx, msg("on A", "c-1"), true, 100)
	require.NoError(t, err)
	second, _, err := nodeB.AppendMessage(ctx, msg("on B", "c-2"), true, 100)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, []uint64{first.Seq, second.Seq}, "one numbering across processes")
	again, dup, err := nodeB.AppendMessage(ctx, msg("on A, resent to B", "c-1"), true, 100)
	require.NoError(t, err)
	assert.True(t, dup)
	assert.Equal(t, "on A", again.Content)

	history, complete, err := nodeB.MessagesAfter(ctx, room, 0, 10)
	require.NoError(t, err)
	assert.True(t, complete)
	require.Len(t, history, 2)
	assert.Equal(t, []string{"on A", "on B"}, []string{history[0].Content, history[1].Content})
	other, err := nodeA.OpenRoom(ctx, "team.x.general", 10, nil)
	require.NoError(t, err)
	assert.Zero(t, other.LastSeq, "a room whose name differs only where a star was is another room")
}
