package notify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"wsplay/shared"
)

// Store keeps each user's notifications and numbers their changes.
// [MemoryStore] keeps them in memory; package store keeps them in SQLite,
// so that they survive a restart. A Store must be safe for concurrent use.
//
// What it must keep: the users it knows (those who have had a
// notification or connected), at most Limits.MaxUsers of them, with the
// seq of their newest notification and a version that counts every change
// to their notifications; and each user's newest Limits.Keep
// notifications from the back end (From empty) and, in a budget of their
// own, newest Limits.KeepPokes pokes. A user is pinned by a notification
// from the back end or a connection with a token: only users who are
// neither pinned nor online (Limits.InUse) may be forgotten to make room,
// with their pokes, so that anonymous clients poking each other cannot
// fill the store for good. A user's seq and version are allocated with the change
// they number, so they increase in commit order with no gap (seq) and
// tell a connection which changes its snapshot already holds (version).
// Each method is atomic: on an error, nothing is changed.
//
// Package notifytest checks any implementation: notifytest.RunStore.
type Store interface {
	// AddNotifications stores each of ns (ID, UserID, Timestamp and the
	// content set) as its user's next notification and returns the
	// changes, in order. With knownOnly, a notification for a user the
	// store does not know is refused with ErrUnknownUser; otherwise it
	// makes the user known (see NotifySnapshot for who makes room), or
	// fails with ErrFull. A notification from the back end pins its user.
	AddNotifications(ctx context.Context, ns []shared.Notification, lim Limits, knownOnly bool) ([]Change, error)
	// BroadcastNotification stores a copy of tmpl, each with an id of its
	// own, for every known user.
	BroadcastNotification(ctx context.Context, tmpl shared.Notification, lim Limits) ([]Change, error)
	// MarkRead marks the user's notification id read. changed is false
	// when it was read already; ErrNotYours when it is not the user's.
	MarkRead(ctx context.Context, user, id string) (ch Change, changed bool, err error)
	// MarkAllRead marks every unread notification of the user with a seq
	// up to upTo read; upTo 0 means up to the newest. changed is false
	// when there was none.
	MarkAllRead(ctx context.Context, user string, upTo uint64) (ch Change, changed bool, err error)
	// NotifySnapshot makes user known and marks them seen now, and
	// returns what a connection of theirs is sent first: with resume,
	// every stored notification after since (all of them when since is
	// beyond the newest, as after a reset of the data); without, the
	// unread ones. With pin (a connection with a token), the user is
	// pinned. A new user beyond Limits.MaxUsers makes the store forget
	// the longest-unseen user who is neither pinned nor online (no
	// connection of theirs holds a version that a new record would
	// repeat); if there is none, the new user is not kept
	// (Snapshot.Known is false).
	NotifySnapshot(ctx context.Context, user string, since uint64, resume bool, lim Limits, pin bool) (Snapshot, error)
	// ListNotifications returns the user's stored notifications, or only
	// the unread ones, oldest first; never nil.
	ListNotifications(ctx context.Context, user string, unreadOnly bool) ([]shared.Notification, error)
}

// SharedStore is a [Store] that several server processes share, such as
// package store's JetStreamNotify. A Service with one publishes nothing
// itself: each process follows the users who have connections to it and
// delivers their changes, whichever process made them, so a notification
// posted to one process reaches the user's tabs on every process, and
// marking it read on one clears it on all.
type SharedStore interface {
	Store
	// Follow calls deliver with each change of user's notifications that
	// is committed, by any process, after Follow returns, in version
	// order, until stop is called; it may also deliver a few committed
	// shortly before (a connection drops a change it has). deliver is
	// called from one goroutine and must not block for long. stop waits
	// until deliver is no longer called.
	Follow(user string, deliver func(Change)) (stop func(), err error)
}

// Change is one committed change to a user's notifications: what the
// user's connections are told. Exactly one of Note, ReadIDs and ReadUpTo
// is set.
type Change struct {
	User    string
	Version uint64 // the change's position among the user's changes
	Unread  int    // the user's unread count after the change

	Note     *shared.Notification // a new notification
	ReadIDs  []string             // these were marked read
	ReadUpTo uint64               // every notification up to this seq was marked read
}

// Snapshot is what a connecting client is sent before live changes.
type Snapshot struct {
	Notes     []shared.Notification // what the connection asked for, oldest first
	LastSeq   uint64                // the user's newest seq
	Version   uint64                // the user's newest change included
	UnreadIDs []string              // every unread notification, oldest first; never nil
	Known     bool                  // false: the store is full and does not keep the user
}

// Limits are a store's bounds (see Config), and what they must spare.
type Limits struct {
	Keep      int // notifications from the back end per user
	KeepPokes int // pokes per user, a budget of their own
	MaxUsers  int
	// InUse, if not nil, reports whether a user is online: an online
	// user is never forgotten to make room.
	InUse func(user string) bool
}

// ErrFull refuses a notification for a new user when the store knows
// Limits.MaxUsers users already, every one with notifications.
var ErrFull = errors.New("the notification store is full: every user it may keep has notifications")

// ErrUnknownUser refuses a poke to a user the store does not know: one who
// has never connected and never had a notification.
var ErrUnknownUser = errors.New("no such user")

// ErrNotYours answers a mark-read of an id that is not one of the user's
// notifications: someone else's, or none at all. The two are not told
// apart, so that nobody learns which ids exist.
var ErrNotYours = errors.New("not one of your notifications")

// MemoryStore is a [Store] that keeps everything in memory, for tests, a
// workshop, or a playground whose notifications need not outlive it. The
// zero value is ready to use.
type MemoryStore struct {
	mu    sync.Mutex // guards users and clock
	users map[string]*memoryUser
	clock int64 // orders "seen": a counter, so that ties cannot happen
}

type memoryUser struct {
	lastSeq, version uint64
	seen             int64
	pinned           bool
	notes            []shared.Notification // the newest, by seq
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// undo collects what reverses a method's changes, for atomicity.
type undo []func()

func (u undo) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

func (s *MemoryStore) tick() int64 {
	s.clock++
	return s.clock
}

// AddNotifications implements [Store].
func (s *MemoryStore) AddNotifications(_ context.Context, ns []shared.Notification, lim Limits, knownOnly bool) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var u undo
	changes := make([]Change, 0, len(ns))
	for _, n := range ns {
		if _, ok := s.users[n.UserID]; !ok {
			if knownOnly {
				u.run()
				return nil, ErrUnknownUser
			}
			if !s.addUser(n.UserID, lim, &u) {
				u.run()
				return nil, ErrFull
			}
		}
		changes = append(changes, s.insert(n, lim, &u))
	}
	return changes, nil
}

// BroadcastNotification implements [Store].
func (s *MemoryStore) BroadcastNotification(_ context.Context, tmpl shared.Notification, lim Limits) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := make([]string, 0, len(s.users))
	for name := range s.users {
		users = append(users, name)
	}
	slices.Sort(users)
	var u undo
	changes := make([]Change, 0, len(users))
	for _, name := range users {
		n := tmpl
		n.UserID, n.ID = name, newID()
		changes = append(changes, s.insert(n, lim, &u))
	}
	return changes, nil
}

// insert stores n for its user, who must be known.
func (s *MemoryStore) insert(n shared.Notification, lim Limits, u *undo) Change {
	mu := s.users[n.UserID]
	before := *mu
	*u = append(*u, func() { *mu = before })
	fromBackEnd := n.From == ""
	mu.lastSeq++
	mu.version++
	mu.pinned = mu.pinned || fromBackEnd
	n.Seq, n.Read = mu.lastSeq, false
	n.Data = bytes.Clone(n.Data)
	mu.notes = append(slices.Clip(mu.notes), n)
	// Retention: the newest of each kind, each within its own budget.
	keep := lim.Keep
	if !fromBackEnd {
		keep = lim.KeepPokes
	}
	kept, seen := mu.notes[:0:0], 0
	for i := len(mu.notes) - 1; i >= 0; i-- {
		if (mu.notes[i].From == "") == fromBackEnd {
			if seen++; seen > max(keep, 1) {
				continue
			}
		}
		kept = append(kept, mu.notes[i])
	}
	slices.Reverse(kept)
	mu.notes = kept
	note := n
	return Change{User: n.UserID, Version: mu.version, Unread: mu.unread(), Note: &note}
}

// addUser makes user known, making room by forgetting the longest-unseen
// users who are neither pinned nor online; it reports false, and adds
// nobody, when there is no room.
func (s *MemoryStore) addUser(user string, lim Limits, u *undo) bool {
	if s.users == nil {
		s.users = map[string]*memoryUser{}
	}
	over := len(s.users) + 1 - max(lim.MaxUsers, 1)
	var loose []string
	for name, mu := range s.users {
		if !mu.pinned && (lim.InUse == nil || !lim.InUse(name)) {
			loose = append(loose, name)
		}
	}
	if over > len(loose) {
		return false
	}
	slices.SortFunc(loose, func(a, b string) int {
		return cmp.Or(cmp.Compare(s.users[a].seen, s.users[b].seen), cmp.Compare(a, b))
	})
	for _, name := range loose[:max(over, 0)] {
		gone := s.users[name]
		delete(s.users, name)
		*u = append(*u, func() { s.users[name] = gone })
	}
	s.users[user] = &memoryUser{seen: s.tick()}
	*u = append(*u, func() { delete(s.users, user) })
	return true
}

func (mu *memoryUser) unread() int {
	n := 0
	for _, note := range mu.notes {
		if !note.Read {
			n++
		}
	}
	return n
}

// MarkRead implements [Store].
func (s *MemoryStore) MarkRead(_ context.Context, user, id string) (Change, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mu, ok := s.users[user]
	if !ok {
		return Change{}, false, ErrNotYours
	}
	i := slices.IndexFunc(mu.notes, func(n shared.Notification) bool { return n.ID == id })
	switch {
	case i < 0:
		return Change{}, false, ErrNotYours
	case mu.notes[i].Read:
		return Change{}, false, nil
	}
	mu.notes[i].Read = true
	mu.version++
	return Change{User: user, Version: mu.version, Unread: mu.unread(), ReadIDs: []string{id}}, true, nil
}

// MarkAllRead implements [Store].
func (s *MemoryStore) MarkAllRead(_ context.Context, user string, upTo uint64) (Change, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mu, ok := s.users[user]
	if !ok {
		return Change{}, false, nil
	}
	if upTo == 0 || upTo > mu.lastSeq {
		upTo = mu.lastSeq
	}
	changed := false
	for i := range mu.notes {
		if mu.notes[i].Seq <= upTo && !mu.notes[i].Read {
			mu.notes[i].Read, changed = true, true
		}
	}
	if !changed {
		return Change{}, false, nil
	}
	mu.version++
	return Change{User: user, Version: mu.version, Unread: mu.unread(), ReadUpTo: upTo}, true, nil
}

// NotifySnapshot implements [Store].
func (s *MemoryStore) NotifySnapshot(_ context.Context, user string, since uint64, resume bool, lim Limits, pin bool) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Notes: []shared.Notification{}, UnreadIDs: []string{}}
	mu, ok := s.users[user]
	if ok {
		mu.seen = s.tick()
	} else if s.addUser(user, lim, &undo{}) {
		mu = s.users[user]
	}
	if mu == nil {
		return snap, nil
	}
	mu.pinned = mu.pinned || pin
	snap.Known, snap.LastSeq, snap.Version = true, mu.lastSeq, mu.version
	if resume && since > mu.lastSeq {
		since = 0
	}
	for _, n := range mu.notes {
		if (resume && n.Seq > since) || (!resume && !n.Read) {
			snap.Notes = append(snap.Notes, clone(n))
		}
		if !n.Read {
			snap.UnreadIDs = append(snap.UnreadIDs, n.ID)
		}
	}
	return snap, nil
}

// ListNotifications implements [Store].
func (s *MemoryStore) ListNotifications(_ context.Context, user string, unreadOnly bool) ([]shared.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []shared.Notification{}
	if mu, ok := s.users[user]; ok {
		for _, n := range mu.notes {
			if !unreadOnly || !n.Read {
				out = append(out, clone(n))
			}
		}
	}
	return out, nil
}

func clone(n shared.Notification) shared.Notification {
	n.Data = bytes.Clone(n.Data)
	return n
}
