package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/internal/natstest"
	"wsplay/server/notify"
	"wsplay/server/notify/notifytest"
	"wsplay/server/store"
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

// Two JetStreamNotify on one NATS server, as two processes have, meet
// the notify.SharedStore contract.
func TestJetStreamNotifySharedConformance(t *testing.T) {
	notifytest.RunSharedStore(t, func(t *testing.T) (notify.SharedStore, notify.SharedStore) {
		srv := natstest.Start(t)
		return newJetStreamNotify(t, srv), newJetStreamNotify(t, srv)
	})
}

// A new user, such as an anonymous tab connecting under a new name, costs
// a few writes, not a read of every user's index: the count of the last
// read stands for a while when it leaves room. Near the cap the store
// reads them all again, so two processes sharing the bucket still keep it.
func TestJetStreamNotifyNewUsersReadNotEveryIndex(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	a, b := newJetStreamNotify(t, srv), newJetStreamNotify(t, srv)
	lim := notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 1000}
	for i := range 200 {
		_, err := a.NotifySnapshot(ctx, fmt.Sprintf("u%d", i), 0, false, lim, false)
		require.NoError(t, err)
	}
	reads := store.IndexReads(a)
	assert.LessOrEqual(t, reads, int64(3), "index reads for 200 new users")
	n, err := store.UserCount(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, 200, n)

	// Near the cap, with users pinned so that none can be forgotten, each
	// of two processes counts again and neither goes past the cap.
	lim = notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 240}
	for i := range 100 {
		s := a
		if i%2 == 1 {
			s = b
		}
		_, err := s.NotifySnapshot(ctx, fmt.Sprintf("v%d", i), 0, false, lim, true)
		require.NoError(t, err)
	}
	n, err = store.UserCount(ctx, a)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 240)
	assert.Greater(t, store.IndexReads(a)+store.IndexReads(b), reads+2, "counted again near the cap")
}
