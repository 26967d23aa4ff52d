// Package notifytest checks an implementation of notify.Store (RunStore),
// or of notify.SharedStore (RunSharedStore), against the
// interface's contract, in the way testing/fstest.TestFS checks an fs.FS:
//
//	func TestMyStore(t *testing.T) {
//		notifytest.RunStore(t, func(t *testing.T) notify.Store { return newMyStore(t) })
//	}
//
// Each check runs as a subtest with an empty store of its own.
package notifytest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/notify"
	"wsplay/shared"
)

// RunStore checks the notify.Store that newStore makes.
func RunStore(t *testing.T, newStore func(t *testing.T) notify.Store) {
	checks := []struct {
		name string
		f    func(*testing.T, notify.Store)
	}{
		{"NumbersEachUsersChanges", numbers},
		{"SnapshotHoldsWhatWasAskedFor", snapshot},
		{"MarkRead", markRead},
		{"MarkAllRead", markAllRead},
		{"Retention", retention},
		{"BroadcastReachesKnownUsers", broadcast},
		{"BoundsItsUsers", boundsUsers},
		{"AtomicOnRefusal", atomic},
		{"PokesNeitherPinNorCrowdOut", pokesDoNotPin},
		{"KeepsWhoIsOnlineAndWhoHasAToken", keepsOnlineAndPinned},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.f(t, newStore(t))
		})
	}
}

var ctx = context.Background()

var lim = notify.Limits{Keep: 100, KeepPokes: 100, MaxUsers: 100}

func note(user, title string) shared.Notification {
	return shared.Notification{ID: rand.Text(), UserID: user, Type: "test", Title: title, Message: "about " + title,
		Data: []byte(`{"n":1}`), Timestamp: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

func add(t *testing.T, s notify.Store, user, title string) notify.Change {
	t.Helper()
	chs, err := s.AddNotifications(ctx, []shared.Notification{note(user, title)}, lim, false)
	require.NoError(t, err)
	require.Len(t, chs, 1)
	return chs[0]
}

func titles(ns []shared.Notification) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Title)
	}
	return out
}

func numbers(t *testing.T, s notify.Store) {
	a1 := add(t, s, "ada", "a1")
	a2 := add(t, s, "ada", "a2")
	b1 := add(t, s, "bob", "b1")
	require.NotNil(t, a1.Note)
	assert.Equal(t, "ada", a1.User)
	assert.Equal(t, uint64(1), a1.Note.Seq)
	assert.Equal(t, uint64(2), a2.Note.Seq, "a user's seq grows by one")
	assert.Equal(t, uint64(1), b1.Note.Seq, "each user has their own")
	assert.Less(t, a1.Version, a2.Version, "and their own versions, growing")
	assert.Equal(t, 2, a2.Unread)
	assert.False(t, a2.Note.Read)
	assert.Equal(t, "a2", a2.Note.Title)
	assert.JSONEq(t, `{"n":1}`, string(a2.Note.Data))
	list, err := s.ListNotifications(ctx, "ada", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"a1", "a2"}, titles(list))
	assert.Equal(t, "about a1", list[0].Message)
	assert.Equal(t, "test", list[0].Type)
	assert.True(t, list[0].Timestamp.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)))
	none, err := s.ListNotifications(ctx, "nobody", false)
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
}

func snapshot(t *testing.T, s notify.Store) {
	for _, title := range []string{"n1", "n2", "n3"} {
		add(t, s, "ada", title)
	}
	ch, changed, err := s.MarkAllRead(ctx, "ada", 1)
	require.NoError(t, err)
	require.True(t, changed)
	snap, err := s.NotifySnapshot(ctx, "ada", 0, false, lim, false)
	require.NoError(t, err)
	assert.True(t, snap.Known)
	assert.Equal(t, []string{"n2", "n3"}, titles(snap.Notes), "without resume: the unread ones")
	assert.Equal(t, uint64(3), snap.LastSeq)
	assert.Equal(t, ch.Version, snap.Version, "the newest change is included")
	assert.Len(t, snap.UnreadIDs, 2)
	snap, err = s.NotifySnapshot(ctx, "ada", 1, true, lim, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"n2", "n3"}, titles(snap.Notes), "with resume: everything after since")
	snap, err = s.NotifySnapshot(ctx, "ada", 0, true, lim, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"n1", "n2", "n3"}, titles(snap.Notes))
	assert.True(t, snap.Notes[0].Read)
	snap, err = s.NotifySnapshot(ctx, "ada", 99, true, lim, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"n1", "n2", "n3"}, titles(snap.Notes), "since beyond the newest (data reset): all of them")
	fresh, err := s.NotifySnapshot(ctx, "cy", 0, false, lim, false)
	require.NoError(t, err)
	assert.True(t, fresh.Known, "a new user is known from their first connection")
	assert.Empty(t, fresh.Notes)
	assert.NotNil(t, fresh.UnreadIDs)
	assert.Zero(t, fresh.Version)
}

func markRead(t *testing.T, s notify.Store) {
	n1 := add(t, s, "ada", "n1")
	add(t, s, "ada", "n2")
	b1 := add(t, s, "bob", "b1")
	ch, changed, err := s.MarkRead(ctx, "ada", n1.Note.ID)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, []string{n1.Note.ID}, ch.ReadIDs)
	assert.Equal(t, 1, ch.Unread)
	assert.Greater(t, ch.Version, n1.Version)
	_, changed, err = s.MarkRead(ctx, "ada", n1.Note.ID)
	require.NoError(t, err)
	assert.False(t, changed, "already read: no change")
	_, _, err = s.MarkRead(ctx, "ada", b1.Note.ID)
	assert.ErrorIs(t, err, notify.ErrNotYours, "another user's notification")
	_, _, err = s.MarkRead(ctx, "ada", "no-such-id")
	assert.ErrorIs(t, err, notify.ErrNotYours, "told apart from nothing")
	unread, err := s.ListNotifications(ctx, "ada", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"n2"}, titles(unread))
	bobs, err := s.ListNotifications(ctx, "bob", true)
	require.NoError(t, err)
	assert.Equal(t, []string{"b1"}, titles(bobs), "bob's is untouched")
}

func markAllRead(t *testing.T, s notify.Store) {
	for _, title := range []string{"n1", "n2", "n3"} {
		add(t, s, "ada", title)
	}
	ch, changed, err := s.MarkAllRead(ctx, "ada", 2)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, uint64(2), ch.ReadUpTo)
	assert.Equal(t, 1, ch.Unread)
	_, changed, err = s.MarkAllRead(ctx, "ada", 2)
	require.NoError(t, err)
	assert.False(t, changed, "nothing left up to 2")
	ch, changed, err = s.MarkAllRead(ctx, "ada", 0)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, uint64(3), ch.ReadUpTo, "0 means up to the newest")
	assert.Zero(t, ch.Unread)
	_, changed, err = s.MarkAllRead(ctx, "nobody", 0)
	require.NoError(t, err)
	assert.False(t, changed)
}

func retention(t *testing.T, s notify.Store) {
	small := notify.Limits{Keep: 3, KeepPokes: 3, MaxUsers: 10}
	for _, title := range []string{"n1", "n2", "n3", "n4", "n5"} {
		_, err := s.AddNotifications(ctx, []shared.Notification{note("ada", title)}, small, false)
		require.NoError(t, err)
	}
	list, err := s.ListNotifications(ctx, "ada", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"n3", "n4", "n5"}, titles(list), "the newest are kept, read or not")
	snap, err := s.NotifySnapshot(ctx, "ada", 0, false, small, false)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), snap.LastSeq, "seqs go on")
}

func broadcast(t *testing.T, s notify.Store) {
	add(t, s, "ada", "a1")
	_, err := s.NotifySnapshot(ctx, "bob", 0, false, lim, false) // known by connecting
	require.NoError(t, err)
	tmpl := shared.Notification{Type: "info", Title: "to all", Timestamp: time.Now()}
	chs, err := s.BroadcastNotification(ctx, tmpl, lim)
	require.NoError(t, err)
	require.Len(t, chs, 2)
	ids := map[string]bool{}
	users := map[string]uint64{}
	for _, ch := range chs {
		require.NotNil(t, ch.Note)
		assert.Equal(t, "to all", ch.Note.Title)
		ids[ch.Note.ID] = true
		users[ch.User] = ch.Note.Seq
	}
	assert.Len(t, ids, 2, "each copy has its own id")
	assert.Equal(t, map[string]uint64{"ada": 2, "bob": 1}, users)
}

// The store keeps at most MaxUsers users. A new one makes it forget the
// longest-unseen user without notifications; when every user has some, a
// notification for a new user is refused and a new connection is served
// without being kept. Who is known is observed without changing it: a
// notification for known users only is refused, with nothing stored, for
// a user the store does not know.
func boundsUsers(t *testing.T, s notify.Store) {
	small := notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 3}
	connect := func(user string) notify.Snapshot {
		t.Helper()
		snap, err := s.NotifySnapshot(ctx, user, 0, false, small, false)
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond) // the next one is seen later
		return snap
	}
	send := func(user string, knownOnly bool) error {
		_, err := s.AddNotifications(ctx, []shared.Notification{note(user, "hi")}, small, knownOnly)
		return err
	}
	unknown := func(user string) {
		t.Helper()
		assert.ErrorIs(t, send(user, true), notify.ErrUnknownUser, "%s should not be known", user)
	}

	for _, u := range []string{"ann", "ben", "cat"} {
		assert.True(t, connect(u).Known)
	}
	require.NoError(t, send("ann", false)) // ann now has something to lose
	connect("cat")                         // seen again: now the most recent

	// dan is the fourth: ben, quiet and the longest unseen, is forgotten.
	assert.True(t, connect("dan").Known)
	unknown("ben")
	// A notification for a new user makes room the same way: cat goes.
	require.NoError(t, send("eve", false))
	unknown("cat")
	// dan is still known: a notification for known users only reaches him.
	require.NoError(t, send("dan", true))

	// Once every user has notifications, nobody can be forgotten.
	assert.ErrorIs(t, send("fay", false), notify.ErrFull)
	snap := connect("gus")
	assert.False(t, snap.Known, "served, but not kept")
	assert.Empty(t, snap.Notes)
	assert.Zero(t, snap.Version)
	unknown("gus")
	unknown("fay")
	chs, err := s.BroadcastNotification(ctx, shared.Notification{Title: "all", Timestamp: time.Now()}, small)
	require.NoError(t, err)
	var reached []string
	for _, ch := range chs {
		reached = append(reached, ch.User)
	}
	assert.ElementsMatch(t, []string{"ann", "dan", "eve"}, reached)
}

// A call that is refused changes nothing: of two notifications, the
// second for an unknown user with knownOnly, neither is stored.
func atomic(t *testing.T, s notify.Store) {
	add(t, s, "ada", "first")
	_, err := s.AddNotifications(ctx, []shared.Notification{note("ada", "second"), note("zed", "for nobody")}, lim, true)
	assert.ErrorIs(t, err, notify.ErrUnknownUser)
	list, err := s.ListNotifications(ctx, "ada", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"first"}, titles(list), "the first of the refused pair was not kept")
	next := add(t, s, "ada", "third")
	assert.Equal(t, uint64(2), next.Note.Seq, "no seq was used up")
}

func poke(from, to, title string) shared.Notification {
	n := note(to, title)
	n.Type, n.From = shared.PokeType, from
	return n
}

// Pokes, which any anonymous client can send, have a budget of their own
// (they never push a notification from the back end out), and pin nobody:
// a user with only pokes may still be forgotten to make room.
func pokesDoNotPin(t *testing.T, s notify.Store) {
	small := notify.Limits{Keep: 2, KeepPokes: 3, MaxUsers: 2}
	send := func(n shared.Notification, knownOnly bool) error {
		_, err := s.AddNotifications(ctx, []shared.Notification{n}, small, knownOnly)
		return err
	}
	require.NoError(t, send(note("ada", "reset code"), false))
	for i := range 10 {
		require.NoError(t, send(poke("mallory", "ada", fmt.Sprint("spam", i)), true))
	}
	list, err := s.ListNotifications(ctx, "ada", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"reset code", "spam7", "spam8", "spam9"}, titles(list), "the back end's one kept, the newest 3 pokes")

	// zed only connected (anonymously) and was poked: not pinned.
	_, err = s.NotifySnapshot(ctx, "zed", 0, false, small, false)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, send(poke("mallory", "zed", "hi"), true))
	// A third user: zed, with only a poke, is forgotten; ada is kept.
	require.NoError(t, send(note("bob", "welcome"), false))
	assert.ErrorIs(t, send(poke("mallory", "zed", "again"), true), notify.ErrUnknownUser, "zed was forgotten")
	zed, err := s.ListNotifications(ctx, "zed", false)
	require.NoError(t, err)
	assert.Empty(t, zed, "with their pokes")
	// ada and bob are pinned: a fourth user has no room.
	assert.ErrorIs(t, send(note("cy", "hello"), false), notify.ErrFull)
}

// A user online (Limits.InUse) or who connected with a token is never
// forgotten to make room.
func keepsOnlineAndPinned(t *testing.T, s notify.Store) {
	online := map[string]bool{"ann": true}
	small := notify.Limits{Keep: 5, KeepPokes: 5, MaxUsers: 2, InUse: func(u string) bool { return online[u] }}
	for _, u := range []string{"ann", "ben"} {
		_, err := s.NotifySnapshot(ctx, u, 0, false, small, u == "ben") // ben with a token
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond)
	}
	snap, err := s.NotifySnapshot(ctx, "cat", 0, false, small, false)
	require.NoError(t, err)
	assert.False(t, snap.Known, "ann is online and ben has a token: no room for cat")
	online["ann"] = false
	snap, err = s.NotifySnapshot(ctx, "cat", 0, false, small, false)
	require.NoError(t, err)
	assert.True(t, snap.Known, "ann went offline: she may go")
	_, err = s.AddNotifications(ctx, []shared.Notification{poke("cat", "ann", "x")}, small, true)
	assert.ErrorIs(t, err, notify.ErrUnknownUser, "ann was forgotten")
	_, err = s.AddNotifications(ctx, []shared.Notification{poke("cat", "ben", "x")}, small, true)
	assert.NoError(t, err, "ben was kept")
}
