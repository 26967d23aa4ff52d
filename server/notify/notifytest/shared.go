package notifytest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/notify"
	"wsplay/shared"
)

// RunSharedStore checks the notify.SharedStore contract: newPair makes
// two stores that share their data, as two server processes do (two
// connections to one NATS server, say). Each check runs as a subtest with
// an empty pair of its own.
func RunSharedStore(t *testing.T, newPair func(t *testing.T) (a, b notify.SharedStore)) {
	checks := []struct {
		name string
		f    func(*testing.T, notify.SharedStore, notify.SharedStore)
	}{
		{"FollowDeliversEveryProcesssChangesOnce", followDelivers},
		{"StopEndsDelivery", stopEnds},
		{"AUserFollowedAnywhereIsKept", followedIsKept},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, b := newPair(t)
			c.f(t, a, b)
		})
	}
}

// follow follows user in s until the test ends, collecting what it
// delivers.
func follow(t *testing.T, s notify.SharedStore, user string) (chan notify.Change, func()) {
	t.Helper()
	got := make(chan notify.Change, 64)
	stop, err := s.Follow(user, func(ch notify.Change) { got <- ch })
	require.NoError(t, err)
	t.Cleanup(stop)
	return got, stop
}

func nextChange(t *testing.T, ch chan notify.Change) notify.Change {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change delivered within 5 s")
		return notify.Change{}
	}
}

func noMore(t *testing.T, ch chan notify.Change) {
	t.Helper()
	select {
	case c := <-ch:
		t.Errorf("one change too many: %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
}

// What either process stores, both Follows deliver, once each and in
// version order; a mark-read made on one reaches the other.
func followDelivers(t *testing.T, a, b notify.SharedStore) {
	_, err := a.NotifySnapshot(ctx, "ada", 0, false, lim, false)
	require.NoError(t, err)
	atA, _ := follow(t, a, "ada")
	atB, _ := follow(t, b, "ada")

	n1, n2 := note("ada", "one"), note("ada", "two")
	chs, err := a.AddNotifications(ctx, []shared.Notification{n1}, lim, false)
	require.NoError(t, err)
	more, err := b.AddNotifications(ctx, []shared.Notification{n2}, lim, false)
	require.NoError(t, err)
	chs = append(chs, more...)
	for _, at := range []chan notify.Change{atA, atB} {
		for _, want := range chs {
			got := nextChange(t, at)
			require.NotNil(t, got.Note)
			assert.Equal(t, want.Version, got.Version)
			assert.Equal(t, want.Note.ID, got.Note.ID)
			assert.Equal(t, want.Note.Seq, got.Note.Seq)
			assert.Equal(t, want.Note.Title, got.Note.Title)
			assert.Equal(t, want.Unread, got.Unread)
		}
	}

	read, changed, err := b.MarkRead(ctx, "ada", n1.ID)
	require.NoError(t, err)
	require.True(t, changed)
	all, changed, err := a.MarkAllRead(ctx, "ada", 0)
	require.NoError(t, err)
	require.True(t, changed)
	for _, at := range []chan notify.Change{atA, atB} {
		got := nextChange(t, at)
		assert.Equal(t, []string{n1.ID}, got.ReadIDs)
		assert.Equal(t, read.Version, got.Version)
		assert.Equal(t, 1, got.Unread)
		got = nextChange(t, at)
		assert.Equal(t, all.ReadUpTo, got.ReadUpTo)
		assert.Zero(t, got.Unread)
	}
	noMore(t, atA)
	noMore(t, atB)
}

// Once stop returns, deliver is not called again.
func stopEnds(t *testing.T, a, b notify.SharedStore) {
	_, err := a.NotifySnapshot(ctx, "ada", 0, false, lim, false)
	require.NoError(t, err)
	atB, stop := follow(t, b, "ada")
	add(t, a, "ada", "seen")
	assert.Equal(t, "seen", nextChange(t, atB).Note.Title)
	stop()
	add(t, a, "ada", "not followed")
	noMore(t, atB)
}

// A user one process follows is online for every process: another one,
// making room for a new user, does not forget them; once nobody follows
// them, it may.
func followedIsKept(t *testing.T, a, b notify.SharedStore) {
	small := notify.Limits{Keep: 5, KeepPokes: 5, MaxUsers: 1}
	snap, err := a.NotifySnapshot(ctx, "ann", 0, false, small, false)
	require.NoError(t, err)
	require.True(t, snap.Known)
	_, stop := follow(t, a, "ann")

	snap, err = b.NotifySnapshot(ctx, "ben", 0, false, small, false)
	require.NoError(t, err)
	assert.False(t, snap.Known, "ann is online at the other process: no room for ben")

	stop()
	snap, err = b.NotifySnapshot(ctx, "ben", 0, false, small, false)
	require.NoError(t, err)
	assert.True(t, snap.Known, "nobody follows ann now: she may go")
}
