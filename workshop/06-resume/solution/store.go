// Package solution is the reference solution of exercise 6: a chat.Store
// in memory that numbers each room's messages, resumes exactly, and takes
// a resend as the message it repeats.
package solution

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"wsplay/server/chat"
	"wsplay/shared"
)

// Store keeps every room's history in memory. It does not evict rooms:
// maxRooms and inUse are for stores that must.
type Store struct {
	mu    sync.Mutex
	rooms map[string]*room
}

type room struct {
	epoch string
	last  uint64            // the newest seq
	msgs  []shared.Message  // the newest, oldest first
	sent  map[string]uint64 // user + "/" + client id → seq
}

// New returns an empty store.
func New() *Store { return &Store{rooms: map[string]*room{}} }

// OpenRoom implements chat.Store: a room's epoch is made once, with the
// room, and stays.
func (s *Store) OpenRoom(_ context.Context, name string, _ int, _ func(string) bool) (chat.RoomState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r == nil {
		r = &room{epoch: rand.Text()[:12], sent: map[string]uint64{}}
		s.rooms[name] = r
	}
	return chat.RoomState{Epoch: r.epoch, LastSeq: r.last}, nil
}

// AppendMessage implements chat.Store.
func (s *Store) AppendMessage(_ context.Context, m shared.Message, fromClient bool, keep int) (shared.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[m.Room]
	if r == nil {
		return shared.Message{}, false, fmt.Errorf("room %q: %w", m.Room, chat.ErrRoomGone)
	}
	key := m.Username + "/" + m.ID
	if fromClient && m.ID != "" {
		if seq, ok := r.sent[key]; ok { // a resend: the stored message, once
			for _, old := range r.msgs {
				if old.Seq == seq {
					return old, true, nil
				}
			}
		}
	}
	r.last++ // per room: each room counts from 1
	m.Seq = r.last
	r.msgs = append(r.msgs, m)
	if fromClient && m.ID != "" {
		r.sent[key] = m.Seq
	}
	if keep > 0 && len(r.msgs) > keep {
		r.msgs = append([]shared.Message(nil), r.msgs[len(r.msgs)-keep:]...)
	}
	return m, false, nil
}

// MessagesAfter implements chat.Store: exactly the messages after after,
// and whether none of them was trimmed.
func (s *Store) MessagesAfter(_ context.Context, name string, after uint64, limit int) ([]shared.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r == nil {
		return nil, true, nil
	}
	complete := len(r.msgs) == 0 && after >= r.last || len(r.msgs) > 0 && r.msgs[0].Seq <= after+1
	var out []shared.Message
	for _, m := range r.msgs {
		if m.Seq > after && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, complete, nil
}

// LastMessages implements chat.Store.
func (s *Store) LastMessages(_ context.Context, name string, n int) ([]shared.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r == nil {
		return nil, nil
	}
	msgs := r.msgs[max(0, len(r.msgs)-n):]
	return append([]shared.Message(nil), msgs...), nil
}
