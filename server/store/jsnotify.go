package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wsplay/server/notify"
	"wsplay/shared"
)

// JetStreamNotify is a [notify.SharedStore] in a NATS JetStream key-value
// bucket, for several server processes that share one NATS server: a
// notification posted to one process reaches the user's tabs on every
// process, and marking it read on one clears it on all.
//
// The bucket (NotifyBucket, history 1) holds three kinds of key, each
// naming the user in unpadded base64url:
//
//   - u.USER, the user's record: the seq of their newest notification,
//     the version that counts their changes, the seq, id and read state
//     of each notification kept, and their newest changes (for Follow).
//     Every change is one compare-and-set of the record, so a user's seq
//     has no gap, their version grows by one per change, and read state
//     is replaced atomically; a writer that loses the race reads the
//     record again and retries.
//   - n.USER.ID, one notification's content, written before the record
//     that lists it (a notification's key is its random id, so writers
//     racing for the same seq never overwrite each other's) and purged
//     once retention drops it.
//   - s.USER, a few bytes saying when the user was last seen, whether
//     they are pinned and until when a process follows them (is online):
//     what making room reads of every user, without their records.
//
// Retention, pinning and Limits.MaxUsers are those of notify.Store. Two
// processes adding new users at the same moment may each take the last
// place: the bound may be passed by one user per process racing.
// Follow keeps a user "online" for every process (their key says until
// when, refreshed while followed), so that no process forgets a user
// another one is serving.
type JetStreamNotify struct {
	kv     jetstream.KeyValue
	nc     *nats.Conn       // to watch again when it reconnects
	stream jetstream.Stream // the bucket's stream, to purge without leaving markers
	log    *slog.Logger

	// How many users the bucket held at the last count, plus those this
	// process added since: what lets a new user in without reading every
	// user's index (see addUsers).
	countMu   sync.Mutex
	counted   int
	countedAt time.Time
	scans     atomic.Int64 // full reads of the index, for tests
}

// NotifyBucket is the name of the notification bucket.
const NotifyBucket = "WSPLAY_NOTIFY"

const (
	// recentChanges is how many of a user's newest changes their record
	// carries: a process following the user delivers each, even when a
	// few records replace each other before it reads one.
	recentChanges = 32
	// casTries bounds the retries of a compare-and-set that lost a race.
	casTries = 64
	// onlineFor is how long a process's Follow marks a user online; it
	// renews the mark at a third of it.
	onlineFor = 90 * time.Second
	// recountAfter is how long a count of the users stands before a new
	// user makes the store read them all again; countFreeMin is the
	// smallest MaxUsers for which a count is trusted at all (below it,
	// reading every index is cheap and keeps the cap exact).
	recountAfter = 10 * time.Second
	countFreeMin = 64
)

// NewJetStreamNotify makes (or finds) the notification bucket in js.
// Log, if not nil, is told of what cannot be reported to a caller (a
// Follow that fell behind, say).
func NewJetStreamNotify(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (*JetStreamNotify, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      NotifyBucket,
		Description: "wsplay: notifications, one record per user",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("store: notification bucket: %w", err)
	}
	st, err := js.Stream(ctx, "KV_"+NotifyBucket)
	if err != nil {
		return nil, fmt.Errorf("store: notification bucket: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &JetStreamNotify{kv: kv, nc: js.Conn(), stream: st, log: log}, nil
}

// notifyRecord is a user's record, the value of u.USER.
type notifyRecord struct {
	LastSeq uint64         `json:"last_seq"`
	Version uint64         `json:"version"`
	Notes   []noteRef      `json:"notes"`            // oldest first
	Recent  []recentChange `json:"recent,omitempty"` // the newest changes, oldest first
}

// noteRef is what a record holds of one notification.
type noteRef struct {
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Read bool   `json:"read,omitempty"`
	Poke bool   `json:"poke,omitempty"`
}

// recentChange is a notify.Change as a record keeps it: a new
// notification by its id.
type recentChange struct {
	Version  uint64   `json:"v"`
	Unread   int      `json:"unread"`
	NoteID   string   `json:"note,omitempty"`
	ReadIDs  []string `json:"read_ids,omitempty"`
	ReadUpTo uint64   `json:"read_up_to,omitempty"`
}

// userIndex is the value of s.USER.
type userIndex struct {
	Seen        int64 `json:"seen"` // Unix nanoseconds
	Pinned      bool  `json:"pinned,omitempty"`
	OnlineUntil int64 `json:"online_until,omitempty"` // Unix nanoseconds
}

func recordKey(user string) string   { return "u." + token(user) }
func indexKey(user string) string    { return "s." + token(user) }
func noteKey(user, id string) string { return "n." + token(user) + "." + token(id) }

func (s *JetStreamNotify) subject(key string) string { return "$KV." + NotifyBucket + "." + key }

// errGone is a record that disappeared between two steps: its user was
// forgotten by another process.
var errGone = errors.New("the user was forgotten meanwhile")

// record reads user's record; rev is 0 when there is none.
func (s *JetStreamNotify) record(ctx context.Context, user string) (rec notifyRecord, rev uint64, err error) {
	e, err := s.kv.Get(ctx, recordKey(user))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return notifyRecord{}, 0, nil
	}
	if err != nil {
		return rec, 0, err
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return rec, 0, fmt.Errorf("record of %q: %w", user, err)
	}
	return rec, e.Revision(), nil
}

// update applies change to user's record and stores it if the record has
// not changed meanwhile, trying again from a fresh read if it has.
// change is told whether the record exists; it returns whether to store.
func (s *JetStreamNotify) update(ctx context.Context, user string, change func(rec *notifyRecord, exists bool) (bool, error)) error {
	for range casTries {
		rec, rev, err := s.record(ctx, user)
		if err != nil {
			return err
		}
		store, err := change(&rec, rev != 0)
		if err != nil || !store {
			return err
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = s.kv.Create(ctx, recordKey(user), b)
		} else {
			_, err = s.kv.Update(ctx, recordKey(user), b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // another process changed it first
		}
		return err
	}
	return fmt.Errorf("%d writers raced for the record of %q", casTries, user)
}

// updateIndex is update for s.USER; change is given the zero index when
// there is none.
func (s *JetStreamNotify) updateIndex(ctx context.Context, user string, change func(ix *userIndex) bool) error {
	for range casTries {
		var ix userIndex
		e, err := s.kv.Get(ctx, indexKey(user))
		rev := uint64(0)
		switch {
		case err == nil:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &ix); err != nil {
				return fmt.Errorf("index of %q: %w", user, err)
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return err
		}
		if !change(&ix) {
			return nil
		}
		b, _ := json.Marshal(ix)
		if rev == 0 {
			_, err = s.kv.Create(ctx, indexKey(user), b)
		} else {
			_, err = s.kv.Update(ctx, indexKey(user), b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		return err
	}
	return fmt.Errorf("%d writers raced for the index of %q", casTries, user)
}

// purge removes keys' values without leaving delete markers; a filter
// may end in ">".
func (s *JetStreamNotify) purge(ctx context.Context, keys ...string) error {
	var errs []error
	for _, k := range keys {
		if err := s.stream.Purge(ctx, jetstream.WithPurgeSubject(s.subject(k))); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// users returns every user's index.
func (s *JetStreamNotify) users(ctx context.Context) (map[string]userIndex, error) {
	w, err := s.kv.Watch(ctx, "s.*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	out := map[string]userIndex{}
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // every current value is in
				return out, nil
			}
			user, err := untoken(strings.TrimPrefix(e.Key(), "s."))
			if err != nil {
				continue // not one of ours
			}
			var ix userIndex
			if json.Unmarshal(e.Value(), &ix) == nil {
				out[user] = ix
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// addUsers makes newUsers known, making room by forgetting the
// longest-unseen users who are neither pinned, online here (lim.InUse)
// nor followed by any process; it returns notify.ErrFull, and adds
// nobody, when there is no room.
func (s *JetStreamNotify) addUsers(ctx context.Context, newUsers []string, lim notify.Limits) error {
	if len(newUsers) == 0 {
		return nil
	}
	if s.roomFor(len(newUsers), lim.MaxUsers) {
		return s.create(ctx, newUsers)
	}
	s.scans.Add(1)
	known, err := s.users(ctx)
	if err != nil {
		return err
	}
	adding := map[string]bool{}
	for _, u := range newUsers {
		if _, ok := known[u]; !ok {
			adding[u] = true
		}
	}
	if over := len(known) + len(adding) - max(lim.MaxUsers, 1); over > 0 {
		now := time.Now().UnixNano()
		var loose []string
		for name, ix := range known {
			if !ix.Pinned && ix.OnlineUntil < now && (lim.InUse == nil || !lim.InUse(name)) && !slices.Contains(newUsers, name) {
				loose = append(loose, name)
			}
		}
		if over > len(loose) {
			return notify.ErrFull
		}
		slices.SortFunc(loose, func(a, b string) int {
			return cmp.Or(cmp.Compare(known[a].Seen, known[b].Seen), cmp.Compare(a, b))
		})
		for _, name := range loose[:over] {
			if err := s.forget(ctx, name); err != nil {
				return err
			}
		}
		s.setCount(len(known) - over + len(adding))
	} else {
		s.setCount(len(known) + len(adding))
	}
	return s.create(ctx, newUsers)
}

// roomFor reports whether n new users surely fit under maxUsers without
// reading every user's index: when the count is recent and leaves an
// eighth of the cap free, room for what other processes sharing the
// bucket add before the next count. An anonymous client connecting under
// a new name then costs a few writes, not a read of every user. Counting
// n as added keeps the count from falling behind this process.
func (s *JetStreamNotify) roomFor(n, maxUsers int) bool {
	if maxUsers < countFreeMin {
		return false
	}
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if s.countedAt.IsZero() || time.Since(s.countedAt) > recountAfter || s.counted+n > maxUsers-maxUsers/8 {
		return false
	}
	s.counted += n
	return true
}

func (s *JetStreamNotify) setCount(n int) {
	s.countMu.Lock()
	s.counted, s.countedAt = n, time.Now()
	s.countMu.Unlock()
}

// create writes the index and an empty record of each user that has none.
func (s *JetStreamNotify) create(ctx context.Context, newUsers []string) error {
	now := time.Now().UnixNano()
	for _, u := range newUsers {
		if err := s.updateIndex(ctx, u, func(ix *userIndex) bool {
			if ix.Seen == 0 {
				ix.Seen = now
				return true
			}
			return false
		}); err != nil {
			return err
		}
		if err := s.update(ctx, u, func(rec *notifyRecord, exists bool) (bool, error) { return !exists, nil }); err != nil {
			return err
		}
	}
	return nil
}

// forget removes a user: their index first, so that no process counts
// them, then their record and notifications.
func (s *JetStreamNotify) forget(ctx context.Context, user string) error {
	return s.purge(ctx, indexKey(user), recordKey(user), "n."+token(user)+".>")
}

// insert makes n the record's next notification, applying retention: it
// returns n as stored, the change and the ids that retention dropped.
func (rec *notifyRecord) insert(n shared.Notification, lim notify.Limits) (shared.Notification, []string) {
	poke := n.From != ""
	rec.LastSeq++
	rec.Version++
	n.Seq, n.Read = rec.LastSeq, false
	rec.Notes = append(rec.Notes, noteRef{Seq: n.Seq, ID: n.ID, Poke: poke})
	keep := lim.Keep
	if poke {
		keep = lim.KeepPokes
	}
	var dropped []string
	kept, seen := make([]noteRef, 0, len(rec.Notes)), 0
	for i := len(rec.Notes) - 1; i >= 0; i-- {
		if rec.Notes[i].Poke == poke {
			if seen++; seen > max(keep, 1) {
				dropped = append(dropped, rec.Notes[i].ID)
				continue
			}
		}
		kept = append(kept, rec.Notes[i])
	}
	slices.Reverse(kept)
	rec.Notes = kept
	rec.remember(recentChange{Version: rec.Version, Unread: rec.unread(), NoteID: n.ID})
	return n, dropped
}

func (rec *notifyRecord) remember(c recentChange) {
	rec.Recent = append(rec.Recent, c)
	if over := len(rec.Recent) - recentChanges; over > 0 {
		rec.Recent = slices.Delete(rec.Recent, 0, over)
	}
}

func (rec *notifyRecord) unread() int {
	n := 0
	for _, r := range rec.Notes {
		if !r.Read {
			n++
		}
	}
	return n
}

func (rec *notifyRecord) has(id string) bool {
	return slices.ContainsFunc(rec.Notes, func(r noteRef) bool { return r.ID == id })
}

// add stores ns, all for user, who must be known unless create: the
// notifications' contents first, then the record that lists them.
func (s *JetStreamNotify) add(ctx context.Context, user string, ns []shared.Notification, lim notify.Limits) ([]notify.Change, error) {
	for _, n := range ns {
		b, err := json.Marshal(n)
		if err != nil {
			return nil, err
		}
		if _, err := s.kv.Put(ctx, noteKey(user, n.ID), b); err != nil {
			return nil, err
		}
	}
	var (
		changes []notify.Change
		dropped []string
	)
	err := s.update(ctx, user, func(rec *notifyRecord, exists bool) (bool, error) {
		if !exists {
			return false, errGone
		}
		changes, dropped = changes[:0], dropped[:0]
		for _, n := range ns {
			if rec.has(n.ID) { // stored by an earlier try whose answer was lost
				continue
			}
			stored, gone := rec.insert(n, lim)
			dropped = append(dropped, gone...)
			changes = append(changes, notify.Change{User: user, Version: rec.Version, Unread: rec.unread(), Note: &stored})
		}
		// The unread counts are the record's after each insert.
		return len(changes) > 0, nil
	})
	if err != nil {
		keys := make([]string, len(ns))
		for i, n := range ns {
			keys[i] = noteKey(user, n.ID)
		}
		return nil, errors.Join(err, s.purge(ctx, keys...))
	}
	if len(ns) > 0 && !slices.ContainsFunc(ns, func(n shared.Notification) bool { return n.From != "" }) {
		// A notification from the back end pins its user.
		err = s.updateIndex(ctx, user, func(ix *userIndex) bool {
			if ix.Pinned {
				return false
			}
			ix.Pinned = true
			return true
		})
	}
	keys := make([]string, len(dropped))
	for i, id := range dropped {
		keys[i] = noteKey(user, id)
	}
	if perr := s.purge(ctx, keys...); perr != nil {
		s.log.Warn("cannot purge notifications that retention dropped", "user", user, "err", perr)
	}
	return changes, err
}

// AddNotifications implements [notify.Store]. Each user's notifications
// are one change of their record; notifications for several users are
// stored user by user, after every refusal that can be known beforehand
// (an unknown user with knownOnly, no room for a new one) was checked.
func (s *JetStreamNotify) AddNotifications(ctx context.Context, ns []shared.Notification, lim notify.Limits, knownOnly bool) ([]notify.Change, error) {
	var order []string
	byUser := map[string][]shared.Notification{}
	for _, n := range ns {
		if _, ok := byUser[n.UserID]; !ok {
			order = append(order, n.UserID)
		}
		byUser[n.UserID] = append(byUser[n.UserID], n)
	}
	var newUsers []string
	for _, u := range order {
		_, rev, err := s.record(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("add notification: %w", err)
		}
		if rev == 0 {
			if knownOnly {
				return nil, notify.ErrUnknownUser
			}
			newUsers = append(newUsers, u)
		}
	}
	if err := s.addUsers(ctx, newUsers, lim); err != nil {
		if errors.Is(err, notify.ErrFull) {
			return nil, err
		}
		return nil, fmt.Errorf("add notification: %w", err)
	}
	var changes []notify.Change
	for _, u := range order {
		chs, err := s.add(ctx, u, byUser[u], lim)
		if errors.Is(err, errGone) {
			err = notify.ErrUnknownUser
		}
		if err != nil {
			return changes, fmt.Errorf("add notification: %w", err)
		}
		changes = append(changes, chs...)
	}
	return changes, nil
}

// BroadcastNotification implements [notify.Store]: a copy for every
// known user, each stored (and acknowledged by NATS) before it returns.
// A user forgotten while it runs is skipped.
func (s *JetStreamNotify) BroadcastNotification(ctx context.Context, tmpl shared.Notification, lim notify.Limits) ([]notify.Change, error) {
	known, err := s.users(ctx)
	if err != nil {
		return nil, fmt.Errorf("broadcast notification: %w", err)
	}
	users := make([]string, 0, len(known))
	for u := range known {
		users = append(users, u)
	}
	slices.Sort(users)
	changes := make([]notify.Change, 0, len(users))
	for _, u := range users {
		n := tmpl
		n.UserID, n.ID = u, newID()
		chs, err := s.add(ctx, u, []shared.Notification{n}, lim)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return changes, fmt.Errorf("broadcast notification: %w", err)
		}
		changes = append(changes, chs...)
	}
	return changes, nil
}

// MarkRead implements [notify.Store].
func (s *JetStreamNotify) MarkRead(ctx context.Context, user, id string) (notify.Change, bool, error) {
	var ch notify.Change
	err := s.update(ctx, user, func(rec *notifyRecord, exists bool) (bool, error) {
		i := slices.IndexFunc(rec.Notes, func(r noteRef) bool { return r.ID == id })
		switch {
		case !exists || i < 0:
			return false, notify.ErrNotYours
		case rec.Notes[i].Read:
			return false, nil
		}
		rec.Notes[i].Read = true
		rec.Version++
		rec.remember(recentChange{Version: rec.Version, Unread: rec.unread(), ReadIDs: []string{id}})
		ch = notify.Change{User: user, Version: rec.Version, Unread: rec.unread(), ReadIDs: []string{id}}
		return true, nil
	})
	if err != nil {
		if errors.Is(err, notify.ErrNotYours) {
			return notify.Change{}, false, err
		}
		return notify.Change{}, false, fmt.Errorf("mark read: %w", err)
	}
	return ch, ch.Version != 0, nil
}

// MarkAllRead implements [notify.Store].
func (s *JetStreamNotify) MarkAllRead(ctx context.Context, user string, upTo uint64) (notify.Change, bool, error) {
	var ch notify.Change
	err := s.update(ctx, user, func(rec *notifyRecord, exists bool) (bool, error) {
		if !exists {
			return false, nil
		}
		limit := upTo
		if limit == 0 || limit > rec.LastSeq {
			limit = rec.LastSeq
		}
		changed := false
		for i := range rec.Notes {
			if rec.Notes[i].Seq <= limit && !rec.Notes[i].Read {
				rec.Notes[i].Read, changed = true, true
			}
		}
		if !changed {
			return false, nil
		}
		rec.Version++
		rec.remember(recentChange{Version: rec.Version, Unread: rec.unread(), ReadUpTo: limit})
		ch = notify.Change{User: user, Version: rec.Version, Unread: rec.unread(), ReadUpTo: limit}
		return true, nil
	})
	if err != nil {
		return notify.Change{}, false, fmt.Errorf("mark all read: %w", err)
	}
	return ch, ch.Version != 0, nil
}

// NotifySnapshot implements [notify.Store].
func (s *JetStreamNotify) NotifySnapshot(ctx context.Context, user string, since uint64, resume bool, lim notify.Limits, pin bool) (notify.Snapshot, error) {
	snap := notify.Snapshot{Notes: []shared.Notification{}, UnreadIDs: []string{}}
	_, rev, err := s.record(ctx, user)
	if err != nil {
		return snap, fmt.Errorf("notification snapshot: %w", err)
	}
	if rev == 0 {
		err := s.addUsers(ctx, []string{user}, lim)
		if errors.Is(err, notify.ErrFull) {
			return snap, nil
		}
		if err != nil {
			return snap, fmt.Errorf("notification snapshot: %w", err)
		}
	}
	now := time.Now().UnixNano()
	if err := s.updateIndex(ctx, user, func(ix *userIndex) bool {
		ix.Seen, ix.Pinned = now, ix.Pinned || pin
		return true
	}); err != nil {
		return snap, fmt.Errorf("notification snapshot: %w", err)
	}
	rec, rev, err := s.record(ctx, user)
	if err != nil || rev == 0 {
		return snap, errors.Join(err, errGone)
	}
	snap.Known, snap.LastSeq, snap.Version = true, rec.LastSeq, rec.Version
	if resume && since > rec.LastSeq {
		since = 0
	}
	var want []noteRef
	for _, r := range rec.Notes {
		if (resume && r.Seq > since) || (!resume && !r.Read) {
			want = append(want, r)
		}
		if !r.Read {
			snap.UnreadIDs = append(snap.UnreadIDs, r.ID)
		}
	}
	if snap.Notes, err = s.contents(ctx, user, want); err != nil {
		return snap, fmt.Errorf("notification snapshot: %w", err)
	}
	return snap, nil
}

// contents reads the notifications refs name, with their read state;
// one that retention dropped meanwhile is left out.
func (s *JetStreamNotify) contents(ctx context.Context, user string, refs []noteRef) ([]shared.Notification, error) {
	out := make([]shared.Notification, 0, len(refs))
	for _, r := range refs {
		e, err := s.kv.Get(ctx, noteKey(user, r.ID))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var n shared.Notification
		if err := json.Unmarshal(e.Value(), &n); err != nil {
			return nil, fmt.Errorf("notification %s of %q: %w", r.ID, user, err)
		}
		n.Seq, n.Read = r.Seq, r.Read
		out = append(out, n)
	}
	return out, nil
}

// ListNotifications implements [notify.Store].
func (s *JetStreamNotify) ListNotifications(ctx context.Context, user string, unreadOnly bool) ([]shared.Notification, error) {
	rec, _, err := s.record(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	var want []noteRef
	for _, r := range rec.Notes {
		if !unreadOnly || !r.Read {
			want = append(want, r)
		}
	}
	out, err := s.contents(ctx, user, want)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// Follow implements [notify.SharedStore]: it watches the user's record
// and delivers each change it lists that is newer than the last one
// delivered (the record's own changes as it stood when Follow began are
// skipped: a connection's snapshot, read after, holds them). When NATS
// comes back after a restart it watches again, and delivers what the
// record gained meanwhile. While it runs, the user counts as online for
// every process.
func (s *JetStreamNotify) Follow(user string, deliver func(notify.Change)) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	// The first watch is made here, so that Follow's promise (every
	// change committed after it returns) holds; WatchKeys makes the next
	// ones, after NATS comes back.
	w, err := s.kv.Watch(ctx, recordKey(user), jetstream.IgnoreDeletes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("follow notifications: %w", err)
	}
	// What the record holds now, a connection's snapshot (read after
	// Follow returns) holds too: delivery starts after it.
	now, _, err := s.record(ctx, user)
	if err != nil {
		w.Stop()
		cancel()
		return nil, fmt.Errorf("follow notifications: %w", err)
	}
	s.markOnline(ctx, user, time.Now().Add(onlineFor))
	nc := s.nc
	var wg sync.WaitGroup
	wg.Go(func() {
		last := now.Version
		handle := func(e jetstream.KeyValueEntry) {
			if e == nil {
				return
			}
			var rec notifyRecord
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				s.log.Error("a notification record does not decode", "user", user, "err", err)
				return
			}
			s.deliverRecent(ctx, user, rec, &last, deliver)
		}
		var reconnected chan nats.Status
		if nc != nil {
			reconnected = nc.StatusChanged(nats.CONNECTED)
		}
		follow(ctx, w, reconnected, handle)
		w.Stop()
		if nc != nil {
			nc.RemoveStatusListener(reconnected)
		}
		// NATS came back (or ctx ended): watch again, delivering from the
		// record what was missed meanwhile.
		WatchKeys(ctx, s.kv, nc, recordKey(user), func() {}, handle, jetstream.IgnoreDeletes())
	})
	wg.Go(func() {
		renew := time.NewTicker(onlineFor / 3)
		defer renew.Stop()
		for {
			select {
			case <-renew.C:
				s.markOnline(ctx, user, time.Now().Add(onlineFor))
			case <-ctx.Done():
				return
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.markOnline(ctx, user, time.Time{})
	}, nil
}

// deliverRecent delivers the changes of rec newer than *last, in order.
func (s *JetStreamNotify) deliverRecent(ctx context.Context, user string, rec notifyRecord, last *uint64, deliver func(notify.Change)) {
	if len(rec.Recent) > 0 && rec.Recent[0].Version > *last+1 && *last != 0 {
		s.log.Warn("fell behind a user's notifications: their connections here miss some until they reconnect",
			"user", user, "from", *last+1, "to", rec.Recent[0].Version-1)
	}
	for _, c := range rec.Recent {
		if c.Version <= *last {
			continue
		}
		*last = c.Version
		ch := notify.Change{User: user, Version: c.Version, Unread: c.Unread, ReadIDs: c.ReadIDs, ReadUpTo: c.ReadUpTo}
		if c.NoteID != "" {
			i := slices.IndexFunc(rec.Notes, func(r noteRef) bool { return r.ID == c.NoteID })
			if i < 0 {
				continue // retention dropped it already
			}
			ns, err := s.contents(ctx, user, rec.Notes[i:i+1])
			if err != nil || len(ns) == 0 {
				if ctx.Err() == nil {
					s.log.Warn("cannot read a notification to deliver", "user", user, "id", c.NoteID, "err", err)
				}
				continue
			}
			ns[0].Read = false // as it was when it was new
			ch.Note = &ns[0]
		} else if ch.ReadIDs == nil && ch.ReadUpTo == 0 {
			continue
		}
		deliver(ch)
	}
}

// markOnline sets until when user counts as online (zero: not).
func (s *JetStreamNotify) markOnline(ctx context.Context, user string, until time.Time) {
	u := int64(0)
	if !until.IsZero() {
		u = until.UnixNano()
	}
	err := s.updateIndex(ctx, user, func(ix *userIndex) bool {
		if ix.Seen == 0 { // not (or no longer) known: leave it so
			return false
		}
		ix.OnlineUntil = u
		return true
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("cannot mark a user online for the other processes", "user", user, "err", err)
	}
}

var _ notify.SharedStore = (*JetStreamNotify)(nil)
