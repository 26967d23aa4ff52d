package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// knownUsers returns the users the store knows, sorted.
func knownUsers(t *testing.T, st *store) []string {
	t.Helper()
	rows, err := st.db.Query(`SELECT user_id FROM notify_users ORDER BY user_id`)
	require.NoError(t, err)
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u string
		require.NoError(t, rows.Scan(&u))
		users = append(users, u)
	}
	require.NoError(t, rows.Err())
	return users
}

// The store keeps at most maxUsers users. A new one makes it forget the
// longest-unseen user without notifications; when every user has some, a
// notification for a new user is refused and a new connection is served
// without being kept.
func TestNotifyStoreBoundsItsUsers(t *testing.T) {
	t.Parallel()
	st, err := openStore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { st.close() })
	ctx := context.Background()
	lim := notifyLimits{keep: 10, maxUsers: 3}
	connect := func(user string) notifySnapshot {
		t.Helper()
		snap, err := st.notifySnapshot(ctx, user, 0, false, lim.maxUsers)
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond) // the next one is seen later
		return snap
	}
	note := func(user string) error {
		_, err := st.addNotifications(ctx, []shared.Notification{{ID: newID(), UserID: user, Title: "hi", Timestamp: time.Now()}}, lim, false)
		return err
	}

	for _, u := range []string{"ann", "ben", "cat"} {
		assert.True(t, connect(u).known)
	}
	require.NoError(t, note("ann")) // ann now has something to lose
	connect("cat")                  // seen again: now the most recent

	// dan is the fourth: ben, quiet and the longest unseen, is forgotten.
	assert.True(t, connect("dan").known)
	assert.Equal(t, []string{"ann", "cat", "dan"}, knownUsers(t, st))
	// A notification for a new user makes room the same way.
	require.NoError(t, note("eve"))
	assert.Equal(t, []string{"ann", "dan", "eve"}, knownUsers(t, st))

	// Once every user has notifications, nobody can be forgotten.
	require.NoError(t, note("dan"))
	assert.ErrorIs(t, note("fay"), errNotifyFull)
	snap := connect("gus")
	assert.False(t, snap.known, "served, but not kept")
	assert.Empty(t, snap.notes)
	assert.Zero(t, snap.version)
	assert.Equal(t, []string{"ann", "dan", "eve"}, knownUsers(t, st))
	// Known users are not affected.
	require.NoError(t, note("ann"))
	changes, err := st.broadcastNotification(ctx, shared.Notification{Title: "all", Timestamp: time.Now()}, lim.keep)
	require.NoError(t, err)
	assert.Len(t, changes, 3)

	// Only known users can be poked.
	_, err = st.addNotifications(ctx, []shared.Notification{{ID: newID(), UserID: "zed", Title: "poke", Timestamp: time.Now()}}, lim, true)
	assert.ErrorIs(t, err, errUnknownUser)
	assert.Equal(t, []string{"ann", "dan", "eve"}, knownUsers(t, st))
}

// A database written by an older server is brought up to date on open,
// keeping its data.
func TestStoreUpgradesAnOlderDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "wsplay.db"))
	require.NoError(t, err)
	for _, m := range migrations[:2] {
		_, err := old.Exec(m)
		require.NoError(t, err)
	}
	_, err = old.Exec(`PRAGMA user_version = 2; INSERT INTO notify_users (user_id, last_seq, version) VALUES ('ann', 0, 0), ('ben', 4, 6)`)
	require.NoError(t, err)
	require.NoError(t, old.Close())

	st, err := openStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.close() })
	var version int
	require.NoError(t, st.db.QueryRow(`PRAGMA user_version`).Scan(&version))
	assert.Equal(t, len(migrations), version)
	assert.Equal(t, []string{"ann", "ben"}, knownUsers(t, st))
	snap, err := st.notifySnapshot(context.Background(), "ben", 0, false, 10)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), snap.lastSeq)
	assert.Equal(t, uint64(6), snap.version)
}
