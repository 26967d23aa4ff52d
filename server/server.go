package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// server holds what every endpoint shares: the configuration, the logger,
// the upgrader with its origin policy, and the set of live connections.
type server struct {
	cfg      Config
	log      *slog.Logger
	site     *siteHandler
	origins  map[string]bool // normalized allowed origins besides the server's own
	upgrader websocket.Upgrader
	sessions sessionSet
	nextID   atomic.Uint64
	store    *store
	rooms    *rooms
	jwtKey   []byte
	notify   *notifications

	metrics   *metrics.Metrics // what the server counts about itself (metrics.go)
	dashboard *dashboard       // the samplers of /ws/dashboard (dashboard.go)
}

func newServer(cfg Config, log *slog.Logger, siteFS fs.FS) (*server, error) {
	site, err := newSiteHandler(siteFS)
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, site: site, origins: map[string]bool{}, store: st}
	s.jwtKey, _ = newJWTKey(cfg.JWTSecret)
	s.rooms = newRooms(&s.cfg, log, st)
	s.metrics = metrics.New()
	s.metrics.DeclareRejectReasons(rejectReasons...)
	s.metrics.CountRoomsWith(s.rooms.count)
	s.dashboard = newDashboard(s.metrics, log)
	s.notify = newNotifications(&s.cfg, log, st)
	s.notify.metrics = s.metrics
	if s.cfg.AdminToken == "" {
		s.cfg.AdminToken = newID()
		log.Info("no -admin-token given: generated one for this run; send it as \"Authorization: Bearer TOKEN\" to /api/notifications",
			"admin_token", s.cfg.AdminToken)
	}
	for _, o := range cfg.AllowedOrigins {
		n, _ := normalizeOrigin(o) // validated by parseConfig
		s.origins[n] = true
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 4 << 10,
		// Idle connections then hold no write buffer.
		WriteBufferPool: &sync.Pool{},
		// Compression stays off: permessage-deflate has no bound on the
		// decompressed size in gorilla, so a small frame could inflate
		// past the read limit's intent.
		EnableCompression: false,
		// accept checks the origin first, with a log line and a precise
		// answer; the upgrader checks again so that no path skips it.
		CheckOrigin: func(r *http.Request) bool {
			_, ok := s.checkOrigin(r)
			return ok
		},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			s.reject(w, r, status, "bad handshake", reason.Error())
		},
	}
	return s, nil
}

// checkOrigin applies the origin policy: a request without an Origin header
// (not from a browser) and a page of the server's own origin may connect,
// and so may the allowed origins; everything else is refused. It returns a
// short reason for a refusal.
func (s *server) checkOrigin(r *http.Request) (reason string, ok bool) {
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return "", true
	case origin == "null":
		return "null origin", false
	}
	n, err := normalizeOrigin(origin)
	if err != nil {
		return "malformed origin", false
	}
	host := n[strings.Index(n, "://")+3:]
	if strings.EqualFold(host, r.Host) || s.origins[n] {
		return "", true
	}
	return "origin not allowed", false
}

// originAllowed applies checkOrigin to a handshake, answering a refusal
// with 403 and the reason in the log.
func (s *server) originAllowed(w http.ResponseWriter, r *http.Request) bool {
	reason, ok := s.checkOrigin(r)
	if !ok {
		s.reject(w, r, http.StatusForbidden, reason, "origin not allowed: open the page from this server, or add its origin to -allowed-origins")
	}
	return ok
}

// accept checks a WebSocket handshake and upgrades it. On any refusal it
// has written the HTTP answer and logged why, and returns nil. The caller
// must Run the connection it returns.
func (s *server) accept(w http.ResponseWriter, r *http.Request, endpoint string) *wsconn.Conn {
	return s.acceptAs(w, r, endpoint, "")
}

// acceptAs is accept for a connection of a known user, which then counts
// toward Config.MaxConnsPerUser.
func (s *server) acceptAs(w http.ResponseWriter, r *http.Request, endpoint, user string) *wsconn.Conn {
	if !websocket.IsWebSocketUpgrade(r) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			s.reject(w, r, http.StatusMethodNotAllowed, "not a websocket handshake", "this is a WebSocket endpoint: use GET with an Upgrade: websocket header")
			return nil
		}
		s.reject(w, r, http.StatusBadRequest, "not a websocket handshake", "this is a WebSocket endpoint: connect with a WebSocket client, not a plain HTTP request")
		return nil
	}
	if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
		// RFC 6455, section 4.4: name the version this server speaks.
		w.Header().Set("Sec-WebSocket-Version", "13")
		s.reject(w, r, http.StatusUpgradeRequired, "unsupported websocket version", "unsupported WebSocket version: this server speaks version 13")
		return nil
	}
	if s.sessions.isClosing() {
		s.reject(w, r, http.StatusServiceUnavailable, "shutting down", "the server is shutting down")
		return nil
	}
	if !s.originAllowed(w, r) {
		return nil
	}
	ip := remoteIP(r)
	if status, reason := s.sessions.reserve(&s.cfg, ip, user); status != 0 {
		w.Header().Set("Retry-After", "10")
		s.reject(w, r, status, reason, reason+": try again later")
		return nil
	}
	stats := s.metrics.Endpoint(endpoint)
	ws, err := wsconn.Upgrade(&s.upgrader, w, r, stats)
	if err != nil {
		s.sessions.unreserve(ip, user)
		return nil // the upgrader's Error has answered and logged
	}
	id := s.nextID.Add(1)
	sess := &session{ip: ip, user: user, stats: stats}
	c := wsconn.New(ws, s.cfg.connConfig(), wsconn.Options{
		Log:   s.log.With("conn", id, "endpoint", endpoint, "remote", r.RemoteAddr),
		Stats: stats,
		OnEnd: func() { s.sessions.remove(sess) },
	})
	sess.c = c
	if !s.sessions.add(sess) {
		// Shutdown began during the handshake.
		s.sessions.unreserve(ip, user)
		c.Close(websocket.CloseGoingAway, shared.ReasonShutdown)
		c.Run(func(int, []byte) error { return wsconn.ErrClosedByServer })
		return nil
	}
	c.Log().Debug("connected")
	return c
}

// serve runs c until it ends; the session set forgets it then.
func (s *server) serve(c *wsconn.Conn, handle wsconn.Handler) {
	c.Run(handle)
}

// shutdown closes every connection with 1001, stops the rooms, lets
// notification requests already admitted finish (later ones get 503), and
// closes the store. When ctx ends first, connections are cut.
func (s *server) shutdown(ctx context.Context) error {
	err := s.sessions.shutdown(ctx)
	s.dashboard.wait() // each sampler stops as its last viewer leaves
	s.rooms.shutdown()
	notifyErr := s.notify.shutdown(ctx)
	return errors.Join(err, notifyErr, s.store.close())
}

// rejectReasons are the reasons handshakes are refused for. They report 0
// from the start; a reason not listed here appears on its first use.
var rejectReasons = []string{
	"not a websocket handshake", "unsupported websocket version", "shutting down",
	"null origin", "malformed origin", "origin not allowed", "bad handshake", "bad interval",
}

// reject answers a request that will not become a WebSocket, and logs it
// at Info: it is the client's doing, not a server fault.
func (s *server) reject(w http.ResponseWriter, r *http.Request, status int, reason, body string) {
	s.log.Info("handshake rejected", "status", status, "reason", reason,
		"path", r.URL.Path, "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
	s.metrics.HandshakeRejected(reason)
	http.Error(w, body, status)
}

// remoteIP is the address a request came from. The server does not trust
// X-Forwarded-For: behind a proxy, every client shares the proxy's address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

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
// returns 0, or the HTTP status and reason of a refusal. A reservation is
// released by remove, or by unreserve if the upgrade fails.
func (ss *sessionSet) reserve(cfg *Config, ip, user string) (int, string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch {
	case ss.closing:
		return http.StatusServiceUnavailable, "shutting down"
	case ss.reserved >= cfg.MaxConns:
		return http.StatusServiceUnavailable, "too many connections"
	case ss.perIP[ip] >= cfg.MaxConnsPerIP:
		return http.StatusTooManyRequests, "too many connections from this address"
	case user != "" && ss.perUser[user] >= cfg.MaxConnsPerUser:
		return http.StatusTooManyRequests, "too many connections for this user"
	}
	if ss.perIP == nil {
		ss.perIP, ss.perUser = map[string]int{}, map[string]int{}
	}
	ss.reserved++
	ss.perIP[ip]++
	if user != "" {
		ss.perUser[user]++
	}
	return 0, ""
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
// (each client's writePump sends it, so all go out at once), and waits for
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
