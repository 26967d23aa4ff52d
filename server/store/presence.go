package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wsplay/server/chat"
)

// KVPresence is a [chat.SharedPresence] in a NATS JetStream key-value
// bucket, for several server processes that share rooms:
//
//   - one key per room, user and process (each part in unpadded
//     base64url), put while the process has a connection of that user in
//     the room, deleted after its last;
//   - the bucket's TTL (PresenceOptions) removes the keys of a process
//     that stopped refreshing them (it died): every process refreshes its
//     own well within it, and the bucket's limit markers let the watchers
//     see a key run out;
//   - every process watches the room's keys, so that it knows who is in
//     the room anywhere, and reports a user's first key and last key as
//     a change.
type KVPresence struct {
	kv           jetstream.KeyValue
	nc           *nats.Conn // to start over when it reconnects
	room         string     // in base64url
	process      string
	refreshEvery time.Duration
	changes      chan chat.PresenceChange
	startOnce    sync.Once
	stop         context.CancelFunc // set by start
	done         chan struct{}      // closed when the watcher and the refresher are gone

	mu     sync.Mutex
	local  map[string]int             // user → this process's connections
	others map[string]map[string]bool // user → processes with a key, this one included
	// leaving holds the users gone from every process whose leave waits
	// out grace; closed is set by Close, after which none is reported.
	grace   time.Duration
	leaving map[string]*time.Timer
	closed  bool
}

// PresenceBucket is the key-value bucket of every room's presence.
const PresenceBucket = "WSPLAY_PRESENCE"

// PresenceOptions are how long a process's key outlives its last
// refresh (TTL, which is the bucket's: every process must give the same),
// and how often a process refreshes its keys (Refresh, under TTL). The
// zero value takes the defaults.
//
// Grace is how long a user who is gone from every process may take to
// come back before the rooms hear a leave: a tab moving to another
// process, or a process whose view of another's keys lags a moment,
// then makes no leave and join.
type PresenceOptions struct {
	TTL, Refresh, Grace time.Duration
}

// The defaults of PresenceOptions.
const (
	DefaultPresenceTTL     = 30 * time.Second
	DefaultPresenceRefresh = 10 * time.Second
	DefaultPresenceGrace   = 2 * time.Second
)

// NewKVPresences makes (or finds) the presence bucket in js and returns
// what makes each room's presence, for chat.Deps.NewPresence, for this
// process, which the keys name with a random id.
func NewKVPresences(ctx context.Context, js jetstream.JetStream, opts PresenceOptions) (func(room string) chat.Presence, error) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultPresenceTTL
	}
	if opts.Refresh <= 0 || opts.Refresh >= opts.TTL {
		opts.Refresh = min(DefaultPresenceRefresh, opts.TTL/3)
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultPresenceGrace
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         PresenceBucket,
		Description:    "wsplay: who is in each chat room, per process",
		TTL:            opts.TTL,
		LimitMarkerTTL: opts.TTL,
		Storage:        jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("store: presence bucket: %w", err)
	}
	process := strings.ToLower(rand.Text()[:12])
	nc := js.Conn()
	return func(room string) chat.Presence { return newKVPresence(kv, nc, room, process, opts) }, nil
}

func token(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// newKVPresence returns a room's presence, which starts nothing yet: a
// room is made for a handshake before its upgrade, and a refused one
// must start nothing. It starts on first use (start), from the room's
// own goroutine.
func newKVPresence(kv jetstream.KeyValue, nc *nats.Conn, room, process string, opts PresenceOptions) *KVPresence {
	return &KVPresence{
		kv: kv, nc: nc, room: token(room), process: process, refreshEvery: opts.Refresh,
		changes: make(chan chat.PresenceChange, 256),
		done:    make(chan struct{}),
		local:   map[string]int{}, others: map[string]map[string]bool{},
		grace: opts.Grace, leaving: map[string]*time.Timer{},
	}
}

// start begins watching the room's keys and refreshing this process's,
// once, and waits (up to 5 s, when NATS is away) for the keys already
// there, so that the room's users are known before a join is answered.
func (p *KVPresence) start() {
	p.startOnce.Do(func() {
		ctx, stop := context.WithCancel(context.Background())
		p.stop = stop
		watched := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { p.watch(ctx, watched) })
		wg.Go(func() { p.refresh(ctx, p.refreshEvery) })
		go func() { wg.Wait(); close(p.done) }()
		select {
		case <-watched:
		case <-time.After(5 * time.Second):
		}
	})
}

func (p *KVPresence) key(user string) string { return p.room + "." + token(user) + "." + p.process }

// Add implements [chat.Presence]: the first connection of user here puts
// this process's key. first is as far as this process knows yet (another
// process's key may be on its way): the changes are what a room
// announces.
func (p *KVPresence) Add(user string) bool {
	p.start()
	p.mu.Lock()
	p.local[user]++
	n := p.local[user]
	first := n == 1 && len(p.others[user]) == 0
	if n == 1 {
		p.mark(user, p.process, true)
	}
	p.mu.Unlock()
	if n == 1 {
		p.put(user)
	}
	return first
}

// Remove implements [chat.Presence]: the last connection of user here
// deletes this process's key. last is as far as this process knows yet,
// as for Add.
func (p *KVPresence) Remove(user string) bool {
	p.mu.Lock()
	if p.local[user] == 0 {
		p.mu.Unlock()
		return false
	}
	p.local[user]--
	gone := p.local[user] == 0
	if gone {
		delete(p.local, user)
		p.mark(user, p.process, false)
	}
	last := gone && len(p.others[user]) == 0
	p.mu.Unlock()
	if gone {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p.kv.Delete(ctx, p.key(user)) // if NATS is away, the TTL removes it
		cancel()
	}
	return last
}

// Users implements [chat.Presence]: everyone in the room, in every
// process.
func (p *KVPresence) Users() []string {
	p.start()
	p.mu.Lock()
	defer p.mu.Unlock()
	users := make([]string, 0, len(p.others))
	for u := range p.others {
		users = append(users, u)
	}
	slices.Sort(users)
	return users
}

// Count implements [chat.Presence].
func (p *KVPresence) Count() int {
	p.start()
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.others)
}

// Changes implements [chat.SharedPresence].
func (p *KVPresence) Changes() <-chan chat.PresenceChange {
	p.start()
	return p.changes
}

// Close implements [chat.SharedPresence]: it stops watching and
// refreshing, and deletes this process's keys.
func (p *KVPresence) Close() {
	started := true
	p.startOnce.Do(func() { started = false }) // never started: nothing to stop
	if !started {
		return
	}
	p.stop()
	<-p.done
	p.mu.Lock()
	p.closed = true
	for u, t := range p.leaving {
		t.Stop()
		delete(p.leaving, u)
	}
	users := make([]string, 0, len(p.local))
	for u := range p.local {
		users = append(users, u)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, u := range users {
		p.kv.Delete(ctx, p.key(u))
	}
}

// mark records that process has (or no longer has) a key for user, and
// reports a change when that makes the user appear or go. Called with
// mu held.
func (p *KVPresence) mark(user, process string, present bool) {
	procs := p.others[user]
	before := len(procs) > 0
	if present {
		if procs == nil {
			procs = map[string]bool{}
			p.others[user] = procs
		}
		procs[process] = true
	} else {
		delete(procs, process)
		if len(procs) == 0 {
			delete(p.others, user)
		}
	}
	after := len(p.others[user]) > 0
	switch {
	case after == before:
	case after:
		if t, ok := p.leaving[user]; ok { // back within grace: nobody heard it go
			t.Stop()
			delete(p.leaving, user)
			return
		}
		p.report(chat.PresenceChange{User: user, Present: true})
	default:
		p.leaving[user] = time.AfterFunc(p.grace, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if _, ok := p.leaving[user]; !ok || p.closed {
				return // back meanwhile, or the room is gone
			}
			delete(p.leaving, user)
			p.report(chat.PresenceChange{User: user, Present: false})
		})
	}
}

// report hands ch to the room. Called with mu held.
func (p *KVPresence) report(ch chat.PresenceChange) {
	select {
	case p.changes <- ch:
	default: // the hub is far behind; its list is still right (Users)
	}
}

func (p *KVPresence) put(user string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.kv.Put(ctx, p.key(user), nil) // if NATS is away, the refresher tries again
}

// watch follows the room's keys until ctx ends; watched is closed once
// the keys that were there have been read. After NATS comes back the
// watch starts over, and whoever's key is gone meanwhile is marked gone.
func (p *KVPresence) watch(ctx context.Context, watched chan struct{}) {
	var (
		once    sync.Once
		initial bool
		seen    map[[2]string]bool // the keys of this watch's first values
	)
	defer once.Do(func() { close(watched) })
	restart := func() { initial, seen = true, map[[2]string]bool{} }
	WatchKeys(ctx, p.kv, p.nc, p.room+".>", restart, func(e jetstream.KeyValueEntry) {
		if e == nil {
			if initial {
				p.reconcile(seen)
				initial = false
			}
			once.Do(func() { close(watched) })
			return
		}
		user, process, ok := p.parse(e.Key())
		if !ok {
			return
		}
		if initial && e.Operation() == jetstream.KeyValuePut {
			seen[[2]string{user, process}] = true
		}
		p.mu.Lock()
		if process == p.process && e.Operation() != jetstream.KeyValuePut && p.local[user] > 0 {
			// Our own key ran out while the user is still here (NATS
			// was away past the TTL): put it back.
			p.mu.Unlock()
			p.put(user)
			return
		}
		p.mark(user, process, e.Operation() == jetstream.KeyValuePut)
		p.mu.Unlock()
	})
}

// reconcile takes the keys a new watch found as the whole truth: every
// other key this process knew of is gone (it ran out, or was deleted,
// while NATS was away), except this process's own for users still here,
// which are put back.
func (p *KVPresence) reconcile(seen map[[2]string]bool) {
	var putBack []string
	p.mu.Lock()
	for user, procs := range p.others {
		for process := range procs {
			switch {
			case seen[[2]string{user, process}]:
			case process == p.process && p.local[user] > 0:
				putBack = append(putBack, user)
			default:
				p.mark(user, process, false)
			}
		}
	}
	p.mu.Unlock()
	for _, u := range putBack {
		p.put(u)
	}
}

// parse splits a key of this room into its user and process.
func (p *KVPresence) parse(key string) (user, process string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 || parts[0] != p.room {
		return "", "", false
	}
	u, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", false
	}
	return string(u), parts[2], true
}

// refresh puts this process's keys again every so often, and at once
// when NATS comes back, until ctx ends, so that only a process that
// stopped loses them.
func (p *KVPresence) refresh(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var reconnected chan nats.Status
	if p.nc != nil {
		reconnected = p.nc.StatusChanged(nats.CONNECTED)
		defer p.nc.RemoveStatusListener(reconnected)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-reconnected:
		}
		p.mu.Lock()
		users := make([]string, 0, len(p.local))
		for u := range p.local {
			users = append(users, u)
		}
		p.mu.Unlock()
		for _, u := range users {
			p.put(u)
		}
	}
}

var _ chat.SharedPresence = (*KVPresence)(nil)

// untoken is the inverse of token.
func untoken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return string(b), err
}
