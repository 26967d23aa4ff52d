// Package board is exercise 8: the feed behind a live dashboard. Edit
// this file; see README.md for the tasks, and check your work with
//
//	scripts/workshop check 8
package board

import (
	"context"
	"sync"
)

// Board hands every snapshot to every viewer.
type Board struct {
	mu      sync.RWMutex
	viewers map[*Viewer]bool // true once the viewer has unsubscribed
}

// Viewer is one dashboard client.
type Viewer struct {
	board *Board
	// TODO(task 1): a queue of every snapshot is the tutorial's way: a
	// viewer that reads slowly falls further behind with each one.
	queue chan []byte
}

// NewBoard returns a board with no viewers.
func NewBoard() *Board { return &Board{viewers: map[*Viewer]bool{}} }

// Subscribe adds a viewer.
func (b *Board) Subscribe() *Viewer {
	v := &Viewer{board: b, queue: make(chan []byte, 1024)}
	b.mu.Lock()
	b.viewers[v] = false
	b.mu.Unlock()
	return v
}

// Unsubscribe removes v; it may be called more than once.
func (v *Viewer) Unsubscribe() {
	v.board.mu.Lock()
	v.board.viewers[v] = true // Publish tidies up
	v.board.mu.Unlock()
}

// Publish hands snapshot to every viewer.
func (b *Board) Publish(snapshot []byte) {
	b.mu.RLock() // several samplers may publish at once
	defer b.mu.RUnlock()
	for v, gone := range b.viewers {
		if gone {
			// TODO(task 3): this changes the map under a read lock,
			// which other Publish calls hold at the same time.
			delete(b.viewers, v)
			continue
		}
		// TODO(task 1): never wait, and never build a backlog: the
		// viewer gets the newest snapshot only.
		// TODO(task 2): every viewer that reads gets the newest one.
		v.queue <- snapshot
	}
}

// Next waits for the next snapshot.
func (v *Viewer) Next(ctx context.Context) ([]byte, error) {
	select {
	case s := <-v.queue:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
