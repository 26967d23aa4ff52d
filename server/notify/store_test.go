package notify_test

import (
	"testing"

	"wsplay/server/notify"
	"wsplay/server/notify/notifytest"
)

func TestMemoryStoreConforms(t *testing.T) {
	notifytest.RunStore(t, func(*testing.T) notify.Store { return notify.NewMemoryStore() })
	notifytest.RunStore(t, func(*testing.T) notify.Store { return &notify.MemoryStore{} })
}
