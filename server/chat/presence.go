package chat

import "slices"

// Presence tracks who is in one room. A user counts once however many
// connections they have: Add reports the first, Remove the last, so that
// the room announces a join when a user's first tab opens and a leave
// when the last one closes. A room's hub calls it from its one goroutine
// only, so an implementation needs no lock of its own.
//
// [MemoryPresence] knows this process's connections. Several processes
// sharing rooms would use one that keeps the counts where all of them see
// it (a NATS key-value bucket, say), behind the same methods; a workshop
// exercise plugs a learner's in through Deps.NewPresence.
type Presence interface {
	// Add counts one more connection of user and reports whether it is
	// the user's first.
	Add(user string) (first bool)
	// Remove counts one connection of user fewer and reports whether it
	// was the user's last. A user with no connection is left alone.
	Remove(user string) (last bool)
	// Users returns the users with a connection, each once, sorted.
	Users() []string
	// Count returns how many users have a connection.
	Count() int
}

// MemoryPresence is the Presence of one process. The zero value is not
// ready: use NewMemoryPresence.
type MemoryPresence struct {
	conns map[string]int // user → open connections
}

// NewMemoryPresence returns an empty MemoryPresence.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{conns: map[string]int{}}
}

// Add implements [Presence].
func (p *MemoryPresence) Add(user string) bool {
	p.conns[user]++
	return p.conns[user] == 1
}

// Remove implements [Presence].
func (p *MemoryPresence) Remove(user string) bool {
	n, ok := p.conns[user]
	switch {
	case !ok:
		return false
	case n == 1:
		delete(p.conns, user)
		return true
	}
	p.conns[user] = n - 1
	return false
}

// Users implements [Presence].
func (p *MemoryPresence) Users() []string {
	out := make([]string, 0, len(p.conns))
	for u := range p.conns {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Count implements [Presence].
func (p *MemoryPresence) Count() int { return len(p.conns) }
