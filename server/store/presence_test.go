package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/chat"
	"wsplay/server/internal/natstest"
	"wsplay/server/store"
)

// Two processes' presences of one room, on one NATS server: each counts
// its own connections, both list everyone once, and each reports a user
// appearing and going across both, once; a user with a connection left
// in either process stays, and one that comes back within the grace
// makes no change at all. (What Add and Remove report is as far as the
// process knows yet; the changes are what the rooms announce.)
func TestKVPresenceAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	newProcess := func() chat.SharedPresence {
		js, err := jetstream.New(srv.Connect(t))
		require.NoError(t, err)
		presences, err := store.NewKVPresences(ctx, js, store.PresenceOptions{})
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
	a.Remove("ada") // she still has b's connection (which a may not know yet: the grace covers it)
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

	// Bob moves his tab from a to b at once: nobody hears him go.
	a.Add("bob")
	assert.Equal(t, chat.PresenceChange{User: "bob", Present: true}, next(b))
	next(a)
	a.Remove("bob")
	b.Add("bob")
	select {
	case ch := <-a.Changes():
		t.Fatalf("a tab moving within the grace made a change: %+v", ch)
	case ch := <-b.Changes():
		t.Fatalf("a tab moving within the grace made a change: %+v", ch)
	case <-time.After(store.DefaultPresenceGrace + time.Second):
	}
	assert.Equal(t, []string{"bob"}, a.Users())
}

// A process that dies keeps its keys no longer than the TTL: the other
// processes then hear its users leave.
func TestKVPresenceOfADeadProcessRunsOut(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := context.Background()
	opts := store.PresenceOptions{TTL: 2 * time.Second, Refresh: 500 * time.Millisecond, Grace: 100 * time.Millisecond}
	newProcess := func() (chat.SharedPresence, func()) {
		nc := srv.Connect(t)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		presences, err := store.NewKVPresences(ctx, js, opts)
		require.NoError(t, err)
		p := presences("lab").(chat.SharedPresence)
		t.Cleanup(p.Close)
		return p, nc.Close
	}
	dying, die := newProcess()
	alive, _ := newProcess()
	dying.Add("ada")
	waitFor := func(want chat.PresenceChange, within time.Duration) {
		t.Helper()
		timeout := time.After(within)
		for {
			select {
			case ch := <-alive.Changes():
				if ch == want {
					return
				}
			case <-timeout:
				t.Fatalf("no %+v within %v", want, within)
			}
		}
	}
	waitFor(chat.PresenceChange{User: "ada", Present: true}, 10*time.Second)
	time.Sleep(2 * opts.TTL) // refreshed meanwhile: still there
	assert.Equal(t, []string{"ada"}, alive.Users(), "a living process's keys stay past the TTL")
	die() // its connection is gone, and nothing deletes its key
	waitFor(chat.PresenceChange{User: "ada", Present: false}, 10*time.Second)
	assert.Empty(t, alive.Users())
}

// A room is made for a handshake before its upgrade: its presence starts
// nothing (no watcher, no refresher) until the room uses it, so a refused
// handshake leaves nothing running. Not parallel: it counts goroutines.
func TestKVPresenceStartsNothingUntilUsed(t *testing.T) {
	srv := natstest.Start(t)
	js, err := jetstream.New(srv.Connect(t))
	require.NoError(t, err)
	presences, err := store.NewKVPresences(context.Background(), js, store.PresenceOptions{})
	require.NoError(t, err)
	before := goleak.IgnoreCurrent()
	p := presences("refused").(chat.SharedPresence)
	goleak.VerifyNone(t, before)
	p.Close()
	goleak.VerifyNone(t, before)
}
