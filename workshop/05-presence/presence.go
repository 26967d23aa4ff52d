// Package presence is exercise 5: who is in a chat room, plugged into the
// project's real chat server. Edit this file; see README.md for the
// tasks, and check your work with
//
//	scripts/workshop check 5
package presence

// Presence is one room's presence. The chat server's room calls it from
// one goroutine only, so it needs no lock.
//
// This starter keeps a list of names, the way much tutorial code does,
// and is wrong as soon as someone opens a second tab.
type Presence struct {
	users []string
}

// New returns an empty room's presence.
func New() *Presence { return &Presence{} }

// Add is called when a connection of user joins the room. It reports
// whether the room should announce that user as joined.
func (p *Presence) Add(user string) bool {
	// TODO(task 1): a user with two tabs is listed twice.
	// TODO(task 2): every tab is announced as a join.
	p.users = append(p.users, user)
	return true
}

// Remove is called when a connection of user leaves the room. It reports
// whether the room should announce that user as gone.
func (p *Presence) Remove(user string) bool {
	// TODO(task 3): closing one tab removes the user, while their other
	// tab is still open.
	for i, u := range p.users {
		if u == user {
			p.users = append(p.users[:i], p.users[i+1:]...)
			break
		}
	}
	return true
}

// Users returns who is in the room.
func (p *Presence) Users() []string {
	// TODO(task 1): each user once, sorted.
	return append([]string(nil), p.users...)
}

// Count returns how many users are in the room.
func (p *Presence) Count() int {
	// TODO(task 1): users, not connections.
	return len(p.users)
}
