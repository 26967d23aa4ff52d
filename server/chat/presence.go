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

// SharedPresence is a [Presence] that several server processes share,
// such as store.KVPresence: Users and Count are the room's users in every
// process, while Add and Remove count this process's connections. A
// hub with one announces no join or leave of its own: every process
// learns who appeared and who went from Changes, and tells its own
// members, so that each member hears each change once, including the
// leave of a user whose process died (its entries run out).
type SharedPresence interface {
	Presence
	// Changes reports each user who appears in the room, in any process
	// (Present), or is gone from every process.
	Changes() <-chan PresenceChange
	// Close stops watching and takes this process's users out.
	Close()
}

// PresenceChange is a user appearing in a room or leaving it, across
// every process that shares it.
type PresenceChange struct {
	User    string
	Present bool
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
