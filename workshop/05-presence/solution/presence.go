// Package solution is the reference solution of exercise 5: who is in a
// room, counting each user once however many tabs they have open.
package solution

import "slices"

// Presence is one room's presence. The chat server's room calls it from
// one goroutine only, so it needs no lock.
type Presence struct {
	tabs map[string]int // user → open connections
}

// New returns an empty room's presence.
func New() *Presence { return &Presence{tabs: map[string]int{}} }

// Add counts one more connection of user and reports whether it is the
// user's first: only then does the room announce a join.
func (p *Presence) Add(user string) bool {
	p.tabs[user]++
	return p.tabs[user] == 1
}

// Remove counts one connection of user fewer and reports whether it was
// the last: only then does the room announce a leave.
func (p *Presence) Remove(user string) bool {
	n, ok := p.tabs[user]
	switch {
	case !ok:
		return false // not here: nothing to remove
	case n == 1:
		delete(p.tabs, user)
		return true
	}
	p.tabs[user] = n - 1
	return false
}

// Users returns who is in the room, each once, sorted.
func (p *Presence) Users() []string {
	out := make([]string, 0, len(p.tabs))
	for u := range p.tabs {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Count returns how many users are in the room.
func (p *Presence) Count() int { return len(p.tabs) }
