package gate

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// sessionSet tracks every live WebSocket so that shutdown can close them
// (http.Server.Shutdown does not track hijacked connections), and counts
// them per address and per user for the connection limits.
type sessionSet struct {
	mu       sync.Mutex // guards the fields below
	clients  map[*session]struct{}
	closing  bool
	reserved int            // connections counted against the limits
	perIP    map[string]int // of reserved, by remote address
	perUser  map[string]int // of reserved, by user
	wg       sync.WaitGroup // one count per client in the set
}

// reserve counts a connection about to be upgraded against the limits. It
// returns nil, or the refusal. A reservation is
// released by remove, or by unreserve if the upgrade fails.
func (ss *sessionSet) reserve(cfg *Config, ip, user string) *Refusal {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var ref *Refusal
	switch {
	case ss.closing:
		return Refuse(http.StatusServiceUnavailable, ReasonShuttingDown, "the server is shutting down")
	case ss.reserved >= cfg.MaxConns:
		ref = Refuse(http.StatusServiceUnavailable, ReasonTooMany, fmt.Sprintf("%s (%d): try again later, or start the server with a higher -max-conns", ReasonTooMany, cfg.MaxConns))
	case ss.perIP[ip] >= cfg.MaxConnsPerIP:
		ref = Refuse(http.StatusTooManyRequests, ReasonTooManyIP, fmt.Sprintf("%s (%d): close some tabs, or start the server with a higher -max-conns-per-ip", ReasonTooManyIP, cfg.MaxConnsPerIP))
	case user != "" && ss.perUser[user] >= cfg.MaxConnsPerUser:
		ref = Refuse(http.StatusTooManyRequests, ReasonTooManyUser, fmt.Sprintf("%s (%d): close some tabs, use another user name, or start the server with a higher -max-conns-per-user", ReasonTooManyUser, cfg.MaxConnsPerUser))
	}
	if ref != nil {
		ref.RetryAfter = 10 * time.Second
		return ref
	}
	if ss.perIP == nil {
		ss.perIP, ss.perUser = map[string]int{}, map[string]int{}
	}
	ss.reserved++
	ss.perIP[ip]++
	if user != "" {
		ss.perUser[user]++
	}
	return nil
}

func (ss *sessionSet) unreserve(ip, user string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.unreserveLocked(ip, user)
}

func (ss *sessionSet) unreserveLocked(ip, user string) {
	ss.reserved--
	if ss.perIP[ip]--; ss.perIP[ip] <= 0 {
		delete(ss.perIP, ip)
	}
	if user != "" {
		if ss.perUser[user]--; ss.perUser[user] <= 0 {
			delete(ss.perUser, user)
		}
	}
}

// session is one live connection in the set.
type session struct {
	c     *wsconn.Conn
	ip    string // remote address, for the connection limits
	user  string // identity, for the per-user limit; "" when anonymous
	stats *metrics.Endpoint
}

// add registers c; it reports false once shutdown has begun.
func (ss *sessionSet) add(c *session) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closing {
		return false
	}
	if ss.clients == nil {
		ss.clients = map[*session]struct{}{}
	}
	ss.clients[c] = struct{}{}
	ss.wg.Add(1)
	c.stats.Opened()
	return true
}

func (ss *sessionSet) remove(c *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.clients[c]; ok {
		delete(ss.clients, c)
		ss.unreserveLocked(c.ip, c.user)
		c.stats.Closed()
		ss.wg.Done()
	}
}

func (ss *sessionSet) isClosing() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closing
}

// len returns the number of live connections.
func (ss *sessionSet) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.clients)
}

// shutdown refuses new connections, asks every live one to close with 1001
// (each client's writer sends it, so all go out at once), and waits for
// them to end. When ctx ends first it hangs up on the rest and returns
// ctx's error.
func (ss *sessionSet) shutdown(ctx context.Context) error {
	ss.mu.Lock()
	ss.closing = true
	clients := make([]*wsconn.Conn, 0, len(ss.clients))
	for c := range ss.clients {
		clients = append(clients, c.c)
	}
	ss.mu.Unlock()

	for _, c := range clients {
		c.Close(websocket.CloseGoingAway, shared.ReasonShutdown)
	}
	done := make(chan struct{})
	go func() {
		ss.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range clients {
			c.Hangup()
		}
		<-done
		return ctx.Err()
	}
}

// conns returns the live connections.
func (ss *sessionSet) conns() []*wsconn.Conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*wsconn.Conn, 0, len(ss.clients))
	for s := range ss.clients {
		out = append(out, s.c)
	}
	return out
}

// online reports whether user has a connection.
func (ss *sessionSet) online(user string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.perUser[user] > 0
}
