package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/server/internal/natstest"
	"wsplay/server/notify"
	"wsplay/server/store"
	"wsplay/shared"
)

// A key watch does not survive its NATS server restarting: presence
// watches start over when the connection comes back (and the bucket is
// on disk, so it is still there), so that a user who joins after a
// restart is seen by every process, and those from before still are.
func TestKVPresenceSurvivesANATSRestart(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	newProcess := func() chat.SharedPresence {
		nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		presences, err := store.NewKVPresences(ctx, js, store.PresenceOptions{TTL: 3 * time.Second})
		require.NoError(t, err)
		p := presences("lab").(chat.SharedPresence)
		t.Cleanup(p.Close)
		return p
	}
	a, b := newProcess(), newProcess()
	a.Add("ada")
	require.Eventually(t, func() bool { return len(b.Users()) == 1 }, 5*time.Second, 20*time.Millisecond)
	srv.Restart(t, 200*time.Millisecond)
	b.Add("bob")
	assert.Eventually(t, func() bool { return len(a.Users()) == 2 }, 10*time.Second, 50*time.Millisecond, "a sees bob after the restart: %v", a.Users())
	assert.Eventually(t, func() bool { return len(b.Users()) == 2 }, 10*time.Second, 50*time.Millisecond, "b still sees ada: %v", b.Users())
}

// A notification Follow starts over too: a notification stored after
// NATS restarted reaches the other process's Follow, and so does one
// stored while its watch was down.
func TestJetStreamNotifyFollowSurvivesANATSRestart(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	newProcess := func() *store.JetStreamNotify {
		nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		s, err := store.NewJetStreamNotify(ctx, js, nil)
		require.NoError(t, err)
		return s
	}
	a, b := newProcess(), newProcess()
	lim := notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 10}
	_, err := a.NotifySnapshot(ctx, "ada", 0, false, lim, false)
	require.NoError(t, err)
	got := make(chan string, 8)
	stop, err := b.Follow("ada", func(ch notify.Change) {
		if ch.Note != nil {
			got <- ch.Note.Title
		}
	})
	require.NoError(t, err)
	defer stop()

	srv.Restart(t, 200*time.Millisecond)
	require.Eventually(t, func() bool {
		_, err := a.AddNotifications(ctx, []shared.Notification{{ID: "AFTER", UserID: "ada", Type: "t", Title: "after", Timestamp: time.Now()}}, lim, false)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "a stores again once NATS is back")
	select {
	case title := <-got:
		assert.Equal(t, "after", title)
	case <-time.After(10 * time.Second):
		t.Fatal("the other process's Follow delivered nothing after the restart")
	}
}
