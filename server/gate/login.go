package gate

import (
	"context"
)

// LoginRate and LoginBurst limit the guest logins of one address.
const (
	LoginRate  = 2 // a second
	LoginBurst = 10
)

// taken reports whether user is someone's already: online here, or taken
// by Config.NameTaken.
func (g *Gate) taken(ctx context.Context, user string) bool {
	if g.sessions.online(user) {
		return true
	}
	return g.cfg.NameTaken != nil && g.cfg.NameTaken(ctx, user)
}
