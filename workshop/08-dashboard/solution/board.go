// Package solution is the reference solution of exercise 8: a dashboard
// feed in which every viewer has a mailbox of one, so that a slow viewer
// gets the newest snapshot and never a backlog.
package solution

import (
	"context"
	"sync"
)

// Board hands every snapshot to every viewer.
type Board struct {
	mu      sync.Mutex // guards viewers; Publish changes nothing in it
	viewers map[*Viewer]struct{}
}

// Viewer is one dashboard client.
type Viewer struct {
	board  *Board
	latest chan []byte // a mailbox of one: the newest snapshot not yet taken
}

// NewBoard returns a board with no viewers.
func NewBoard() *Board { return &Board{viewers: map[*Viewer]struct{}{}} }

// Subscribe adds a viewer.
func (b *Board) Subscribe() *Viewer {
	v := &Viewer{board: b, latest: make(chan []byte, 1)}
	b.mu.Lock()
	b.viewers[v] = struct{}{}
	b.mu.Unlock()
	return v
}

// Unsubscribe removes v; it may be called more than once.
func (v *Viewer) Unsubscribe() {
	v.board.mu.Lock()
	delete(v.board.viewers, v)
	v.board.mu.Unlock()
}

// Publish hands snapshot to every viewer without waiting: a snapshot a
// viewer has not taken yet is replaced by this newer one.
func (b *Board) Publish(snapshot []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for v := range b.viewers {
		for {
			select {
			case v.latest <- snapshot:
			default:
				select {
				case <-v.latest: // drop the older one, then try again
				default:
				}
				continue
			}
			break
		}
	}
}

// Next waits for the newest snapshot not yet taken.
func (v *Viewer) Next(ctx context.Context) ([]byte, error) {
	select {
	case s := <-v.latest:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
