package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"wsplay/server/notify"
	"wsplay/server/notify/notifytest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// knownUsers returns the users the store knows, sorted.
func knownUsers(t *testing.T, st *Store) []string {
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

func TestSQLiteStoreConformsToNotify(t *testing.T) {
	notifytest.RunStore(t, func(t *testing.T) notify.Store {
		st, err := Open(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	})
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

	st, err := Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var version int
	require.NoError(t, st.db.QueryRow(`PRAGMA user_version`).Scan(&version))
	assert.Equal(t, len(migrations), version)
	assert.Equal(t, []string{"ann", "ben"}, knownUsers(t, st))
	snap, err := st.NotifySnapshot(context.Background(), "ben", 0, false, notify.Limits{Keep: 10, KeepPokes: 10, MaxUsers: 10}, false)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), snap.LastSeq)
	assert.Equal(t, uint64(6), snap.Version)
}

// Two servers cannot share one data directory: the second is refused
// until the first closes it.
func TestOneServerPerDataDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Open(dir)
	require.NoError(t, err)
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, first.Close())
	second, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, second.Close())
}
