package chat

import "slices"

// presence tracks who is in one room. A user counts once however many
// connections they have: add reports the first, remove the last. A hub
// calls it from its one goroutine only.
//
// The in-memory implementation knows this process's connections. Several
// processes sharing rooms would use one that keeps the counts where all of
// them see it (a NATS key-value bucket, say), behind the same methods.
type presence interface {
	add(user string) (first bool)
	remove(user string) (last bool)
	users() []string // sorted
	count() int
}

type memoryPresence struct {
	conns map[string]int // user → open connections
}

func newMemoryPresence() *memoryPresence {
	return &memoryPresence{conns: map[string]int{}}
}

func (p *memoryPresence) add(user string) bool {
	p.conns[user]++
	return p.conns[user] == 1
}

func (p *memoryPresence) remove(user string) bool {
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

func (p *memoryPresence) users() []string {
	out := make([]string, 0, len(p.conns))
	for u := range p.conns {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

func (p *memoryPresence) count() int { return len(p.conns) }
