package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"wsplay/shared"
)

// Store keeps the rooms' history: their epochs and sequences and their
// newest messages. [MemoryStore] keeps it in memory; package store keeps
// it in SQLite, so that it survives a restart. A Store must be safe for
// concurrent use; each room is written by one hub at a time.
//
// Package chattest checks any implementation: chattest.RunStore.
type Store interface {
	// OpenRoom returns the room's state, creating the room with a new
	// epoch if it has none. When that makes more than maxRooms stored
	// rooms, the least recently active other rooms lose their history (a
	// client resuming in one of them is told, through the changed epoch),
	// but never one for which inUse (if not nil) reports true: a room
	// with members keeps its history.
	OpenRoom(ctx context.Context, room string, maxRooms int, inUse func(room string) bool) (RoomState, error)
	// AppendMessage stores a text message (Room, Username, Content, ID
	// and Timestamp set) as its room's next one and returns it with its
	// Seq. The room keeps its newest keep messages. With fromClient, ID
	// is the sender's own: if the sender sent a message with the same ID
	// before, nothing is stored and the earlier message is returned with
	// dup set. A room that is not stored (never opened, or evicted since)
	// is an error that wraps ErrRoomGone.
	AppendMessage(ctx context.Context, m shared.Message, fromClient bool, keep int) (stored shared.Message, dup bool, err error)
	// MessagesAfter returns the room's messages with a seq above after,
	// oldest first, at most limit of them, and whether the store still
	// holds every message after that seq (false when retention has
	// trimmed some).
	MessagesAfter(ctx context.Context, room string, after uint64, limit int) (msgs []shared.Message, complete bool, err error)
	// LastMessages returns the room's newest n messages, oldest first.
	LastMessages(ctx context.Context, room string, n int) ([]shared.Message, error)
}

// SharedStore is a [Store] that several server processes share, such as
// store.JetStreamChat: any of them may append to a room at any time. A
// room's hub with one does not broadcast what it appends: it takes the
// room's messages, its own included, from Follow, in seq order, and
// hands only those to its members, so that every member in every
// process sees one order; its tail and its LastSeq are what Follow
// delivered. A member resuming from a seq that Follow has not reached
// yet (it saw that far in another process) waits for it, up to
// ResumeWait.
type SharedStore interface {
	Store
	// Follow calls deliver with each message of room after seq, in seq
	// order, from one goroutine at a time, until stop is called. deliver
	// may block: the follow then waits.
	Follow(room string, after uint64, deliver func(shared.Message)) (stop func(), err error)
}

// ResumeWait bounds how long a resuming member waits for a shared
// store's follow to reach the seq it resumes from; past it, the member
// is answered with what the room has (recovered false).
const ResumeWait = 2 * time.Second

// ErrUnavailable, wrapped by a Store's error, says the store is out of
// reach for now (a shared store's server is down or restarting): the
// message was not stored, and the hub tells its sender so
// (shared.CodeUnavailable), to send it again in a moment.
var ErrUnavailable = errors.New("the message store cannot be reached")

// ErrRoomGone says a room is not in the store: evicted, or never opened.
var ErrRoomGone = errors.New("the room is not stored")

// RoomState is where a room's history stands.
type RoomState struct {
	// Epoch names the current life of the room's history; it is new
	// when the history starts over.
	Epoch string
	// LastSeq is the seq of the room's newest message, 0 before the
	// first.
	LastSeq uint64
}

// MemoryStore is a [Store] that keeps everything in memory, for tests, a
// workshop, or a playground whose history need not outlive it. The zero
// value is ready to use.
type MemoryStore struct {
	mu    sync.Mutex // guards rooms
	rooms map[string]*memoryRoom
}

type memoryRoom struct {
	state   RoomState
	updated time.Time         // of the newest message, for eviction
	msgs    []shared.Message  // the newest, oldest first
	sent    map[string]uint64 // user + "/" + client id → seq
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// OpenRoom implements [Store].
func (s *MemoryStore) OpenRoom(_ context.Context, room string, maxRooms int, inUse func(string) bool) (RoomState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[room]; ok {
		return r.state, nil
	}
	if s.rooms == nil {
		s.rooms = map[string]*memoryRoom{}
	}
	s.rooms[room] = &memoryRoom{state: RoomState{Epoch: newID()}, updated: time.Now(), sent: map[string]uint64{}}
	for len(s.rooms) > max(maxRooms, 1) {
		oldest := ""
		for name, r := range s.rooms {
			if name != room && (inUse == nil || !inUse(name)) && (oldest == "" || r.updated.Before(s.rooms[oldest].updated)) {
				oldest = name
			}
		}
		if oldest == "" {
			break // every other room is in use: over the bound, not over anyone's history
		}
		delete(s.rooms, oldest)
	}
	return s.rooms[room].state, nil
}

// AppendMessage implements [Store].
func (s *MemoryStore) AppendMessage(_ context.Context, m shared.Message, fromClient bool, keep int) (shared.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[m.Room]
	if !ok {
		return m, false, fmt.Errorf("append message: room %q: %w", m.Room, ErrRoomGone)
	}
	key := m.Username + "/" + m.ID
	if seq, ok := r.sent[key]; fromClient && ok {
		if i, found := slices.BinarySearchFunc(r.msgs, seq, bySeq); found {
			return r.msgs[i], true, nil
		}
		// Trimmed by retention: the message is no longer served, so it
		// may be stored again.
	}
	r.state.LastSeq++
	m.Seq = r.state.LastSeq
	r.updated = time.Now()
	r.msgs = append(r.msgs, m)
	if fromClient {
		r.sent[key] = m.Seq
	}
	if over := len(r.msgs) - max(keep, 1); over > 0 {
		for _, old := range r.msgs[:over] {
			if k := old.Username + "/" + old.ID; r.sent[k] == old.Seq {
				delete(r.sent, k)
			}
		}
		r.msgs = slices.Delete(r.msgs, 0, over)
	}
	return m, false, nil
}

// MessagesAfter implements [Store].
func (s *MemoryStore) MessagesAfter(_ context.Context, room string, after uint64, limit int) ([]shared.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[room]
	if !ok {
		return nil, true, nil
	}
	complete := len(r.msgs) == 0 || r.msgs[0].Seq <= after+1
	i, _ := slices.BinarySearchFunc(r.msgs, after+1, bySeq)
	out := r.msgs[i:]
	if len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), complete, nil
}

// LastMessages implements [Store].
func (s *MemoryStore) LastMessages(_ context.Context, room string, n int) ([]shared.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[room]
	if !ok {
		return nil, nil
	}
	return slices.Clone(r.msgs[max(0, len(r.msgs)-n):]), nil
}

func bySeq(m shared.Message, seq uint64) int {
	switch {
	case m.Seq < seq:
		return -1
	case m.Seq > seq:
		return 1
	}
	return 0
}
