package gate

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginRate and LoginBurst limit the guest logins of one address.
const (
	LoginRate  = 2 // a second
	LoginBurst = 10
)

// maxLoginAddrs bounds the addresses the login limiter remembers; past
// it, those whose bucket has refilled are forgotten (they are as good as
// new), so the table cannot grow without bound.
const maxLoginAddrs = 10000

// loginLimiter is a token bucket per remote address. The zero value is
// ready to use.
type loginLimiter struct {
	mu    sync.Mutex // guards addrs
	addrs map[string]*rate.Limiter
}

func (l *loginLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = map[string]*rate.Limiter{}
	}
	lim, ok := l.addrs[ip]
	if !ok {
		if len(l.addrs) >= maxLoginAddrs {
			for a, old := range l.addrs {
				if old.TokensAt(now) >= LoginBurst {
					delete(l.addrs, a)
				}
			}
		}
		if len(l.addrs) >= maxLoginAddrs {
			return false // every address remembered is busy: a flood
		}
		lim = rate.NewLimiter(LoginRate, LoginBurst)
		l.addrs[ip] = lim
	}
	return lim.AllowN(now, 1)
}

// taken reports whether user is someone's already: online here, or taken
// by Config.NameTaken.
func (g *Gate) taken(ctx context.Context, user string) bool {
	if g.sessions.online(user) {
		return true
	}
	return g.cfg.NameTaken != nil && g.cfg.NameTaken(ctx, user)
}
