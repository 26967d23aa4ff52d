package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/server/internal/natstest"
	"wsplay/server/store"
)

// Two processes' presences of one room, on one NATS server: each counts
// its own connections, both list everyone once, and each reports a user
// appearing and going across both, once; a user with a connection left
// in either process stays. (What Add and Remove report is as far as the
// process knows yet; the changes are what the rooms announce.)
func TestKVPresenceAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	newProcess := func() chat.SharedPresence {
		js, err := jetstream.New(srv.Connect(t))
		require.NoError(t, err)
		presences, err := store.NewKVPresences(ctx, js)
		require.NoError(t, err)
		p := presences("lab.1").(chat.SharedPresence)
		t.Cleanup(p.Close)
		return p
	}
	a, b := newProcess(), newProcess()
	next := func(p chat.SharedPresence) chat.PresenceChange {
		t.Helper()
		select {
		case ch := <-p.Changes():
			return ch
		case <-time.After(10 * time.Second):
			t.Fatal("no presence change within 10 s")
			return chat.PresenceChange{}
		}
	}

	assert.True(t, a.Add("ada"), "ada's first connection anywhere")
	assert.Equal(t, chat.PresenceChange{User: "ada", Present: true}, next(a))
	assert.Equal(t, chat.PresenceChange{User: "ada", Present: true}, next(b), "b hears of ada")
	assert.Equal(t, []string{"ada"}, b.Users())

	assert.False(t, b.Add("ada"), "ada is here already, in a")
	assert.False(t, a.Remove("ada"), "ada still has b's connection")
	b.Remove("ada") // her last anywhere (which b may not know yet: a's key may still be on its way)
	assert.Equal(t, chat.PresenceChange{User: "ada", Present: false}, next(a))
	assert.Equal(t, chat.PresenceChange{User: "ada", Present: false}, next(b))
	assert.Empty(t, a.Users())
	assert.Zero(t, b.Count())
	select {
	case ch := <-a.Changes():
		t.Fatalf("an extra change: %+v", ch)
	case <-time.After(200 * time.Millisecond):
	}
}
