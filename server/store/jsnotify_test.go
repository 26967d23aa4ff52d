package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/internal/natstest"
	"wsplay/server/notify"
	"wsplay/server/notify/notifytest"
	"wsplay/server/store"
	"wsplay/shared"
)

func newJetStreamNotify(t *testing.T, srv *natstest.Server) *store.JetStreamNotify {
	t.Helper()
	js, err := jetstream.New(srv.Connect(t))
	require.NoError(t, err)
	s, err := store.NewJetStreamNotify(context.Background(), js, nil)
	require.NoError(t, err)
	return s
}

// The JetStream notification store meets the notify.Store contract,
// each check on a NATS server of its own.
func TestJetStreamNotifyConformance(t *testing.T) {
	notifytest.RunStore(t, func(t *testing.T) notify.Store { return newJetStreamNotify(t, natstest.Start(t)) })
}

// Two processes share the store: what one stores, the other's Follow
// delivers, in version order, and a mark-read made on the second reaches
// the first's Follow.
func TestJetStreamNotifyFollowAcrossProcesses(t *testing.T) {
	srv := natstest.Start(t)
	a, b := newJetStreamNotify(t, srv), newJetStreamNotify(t, srv)
	ctx := context.Background()
	lim := notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 10}
	_, err := a.NotifySnapshot(ctx, "ada", 0, false, lim, false)
	require.NoError(t, err)

	follow := func(s *store.JetStreamNotify) (chan notify.Change, func()) {
		got := make(chan notify.Change, 16)
		stop, err := s.Follow("ada", func(ch notify.Change) { got <- ch })
		require.NoError(t, err)
		return got, stop
	}
	atA, stopA := follow(a)
	defer stopA()
	atB, stopB := follow(b)
	defer stopB()
	next := func(ch chan notify.Change) notify.Change {
		t.Helper()
		select {
		case c := <-ch:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no change delivered within 5 s")
			return notify.Change{}
		}
	}

	chs, err := a.AddNotifications(ctx, []shared.Notification{
		{ID: "N1", UserID: "ada", Type: "t", Title: "one", Timestamp: time.Now()},
		{ID: "N2", UserID: "ada", Type: "t", Title: "two", Timestamp: time.Now()},
	}, lim, false)
	require.NoError(t, err)
	require.Len(t, chs, 2)
	for _, want := range chs {
		got := next(atB)
		require.NotNil(t, got.Note)
		assert.Equal(t, want.Version, got.Version)
		assert.Equal(t, want.Note.Title, got.Note.Title)
		assert.Equal(t, want.Note.Seq, got.Note.Seq)
	}
	assert.Equal(t, "one", next(atA).Note.Title, "the process that stored it follows too")
	assert.Equal(t, "two", next(atA).Note.Title)

	read, changed, err := b.MarkRead(ctx, "ada", "N1")
	require.NoError(t, err)
	require.True(t, changed)
	got := next(atA)
	assert.Equal(t, []string{"N1"}, got.ReadIDs)
	assert.Equal(t, read.Version, got.Version)
	assert.Equal(t, 1, got.Unread)
	assert.Equal(t, []string{"N1"}, next(atB).ReadIDs)

	select {
	case extra := <-atB:
		t.Fatalf("delivered once each, but also %+v", extra)
	case <-time.After(200 * time.Millisecond):
	}
}

// A user followed by one process is online for every process: another
// one, making room for a new user, does not forget them.
func TestJetStreamNotifyFollowedUserIsNotForgotten(t *testing.T) {
	srv := natstest.Start(t)
	a, b := newJetStreamNotify(t, srv), newJetStreamNotify(t, srv)
	ctx := context.Background()
	small := notify.Limits{Keep: 5, KeepPokes: 5, MaxUsers: 1}
	snap, err := a.NotifySnapshot(ctx, "ann", 0, false, small, false)
	require.NoError(t, err)
	require.True(t, snap.Known)
	stop, err := a.Follow("ann", func(notify.Change) {})
	require.NoError(t, err)

	snap, err = b.NotifySnapshot(ctx, "ben", 0, false, small, false)
	require.NoError(t, err)
	assert.False(t, snap.Known, "ann is online at the other process: no room for ben")

	stop()
	snap, err = b.NotifySnapshot(ctx, "ben", 0, false, small, false)
	require.NoError(t, err)
	assert.True(t, snap.Known, "ann went offline everywhere: she may go")
}
