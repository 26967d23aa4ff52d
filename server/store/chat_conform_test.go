package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/server/chat/chattest"
)

func TestSQLiteStoreConformsToChat(t *testing.T) {
	chattest.RunStore(t, func(t *testing.T) chat.Store {
		st, err := Open(t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	})
}
