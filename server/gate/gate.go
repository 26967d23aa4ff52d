// Package gate admits WebSocket handshakes: one ordered pipeline that
// every endpoint's handshake goes through, ending in the upgrade. It also
// holds the set of live connections, so that it can cap them and close
// them all on shutdown, and it decides who a connection is (signed
// tokens, POST /api/login).
//
// # The pipeline
//
// [Gate.Admit] takes a handshake through these steps, in this order, and
// answers the first that refuses it with a precise HTTP status, a short
// text body and a log line at Info (a refusal is the client's doing, not
// a server fault), counted by reason in the metrics:
//
//  1. method and Upgrade headers: not a WebSocket handshake is 405 (not
//     GET) or 400;
//  2. version: anything but 13 is 426, naming 13 (RFC 6455, 4.4);
//  3. shutdown: once [Gate.Shutdown] has begun, 503;
//     (before all of them, the Host: a name the server does not know is
//     421, see [Gate.HostFilter]);
//  4. origin: a page of another site, a null or malformed Origin is 403
//     (see [Config.AllowedOrigins]), before its credentials are looked at;
//  5. identity: a bad token, or none with [Config.RequireAuth], is 401
//     with one body for every reason; a bad name in the query is 400;
//  6. connection caps: in total 503, per address or per user 429, with
//     Retry-After;
//  7. the endpoint's own checks ([Endpoint.Check]): its query (a room
//     name, since=, an interval), and what it must reserve (a room);
//  8. the upgrade, with compression off.
//
// Nothing is created, stored or started for a handshake refused at any
// step: the caps are reservations that a refusal gives back, and an
// endpoint's Check reserves without starting anything, and is undone if
// the upgrade fails.
package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/internal/keyrate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Config is what the gate lets in. The zero value is ready to use: same
// origin only, no token required, no guest login, a random signing key,
// and the default caps.
type Config struct {
	// AllowedHosts are the host names (or addresses) the server answers
	// to besides the loopback ones: the names clients use to reach it.
	// A request for any other Host is refused with 421, so that a page
	// whose name was rebound to this server's address (DNS rebinding)
	// cannot use it. Default none: localhost, its subdomains, 127.0.0.0/8
	// and ::1 only.
	AllowedHosts []string
	// AllowedOrigins are the origins (scheme://host[:port]) besides the
	// server's own whose pages may open WebSockets. Default none:
	// same-origin only. A page's origin is compared with the Host the
	// server receives; behind a proxy that rewrites it, list the public
	// origin.
	AllowedOrigins []string

	// RequireAuth refuses handshakes without a valid token (401). Default
	// off: a connection is whoever its query names.
	RequireAuth bool
	// GuestLogin lets POST /api/login issue a token for any valid name.
	// Default off; the playground's flag turns it on.
	GuestLogin bool
	// JWTSecret signs and checks tokens (HS256), at least 32 characters.
	// Default: random, made by New, so tokens do not outlive the gate.
	JWTSecret string
	// TokenTTL is how long a token from /api/login is valid. Default 1 h.
	TokenTTL time.Duration
	// NameTaken, if not nil, says whether a name is someone's already
	// (the playground: a user with notifications), so that under
	// RequireAuth a guest cannot log in as them. A name with a live
	// connection is always taken.
	NameTaken func(ctx context.Context, user string) bool
	// SecureCookie marks the login cookie Secure even when the server
	// itself sees plain HTTP, as behind a TLS-terminating proxy. Default
	// off (the cookie is Secure when the request came over TLS).
	SecureCookie bool

	// MaxConns bounds the WebSocket connections in total (503 past it);
	// MaxConnsPerIP and MaxConnsPerUser bound them per client address (an
	// IPv6 client's /64) and per identity proven by a token (429); a name
	// that is only claimed is not capped, so that nobody can lock its
	// owner out. Defaults 10,000, 2,048 and 32: a workshop's tabs are often
	// all one address (one machine, or a classroom behind one NAT), and
	// each page holds six sockets, so 300 tabs need 1,800.
	MaxConns        int
	MaxConnsPerIP   int
	MaxConnsPerUser int

	// Conn configures every connection the gate admits.
	Conn wsconn.Config
}

// The defaults of Config.
const (
	DefaultTokenTTL        = time.Hour
	DefaultMaxConns        = 10000
	DefaultMaxConnsPerIP   = 2048
	DefaultMaxConnsPerUser = 32
)

func (c Config) withDefaults() Config {
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxConnsPerUser <= 0 {
		c.MaxConnsPerUser = DefaultMaxConnsPerUser
	}
	c.Conn = c.Conn.WithDefaults()
	return c
}

// Check checks cfg as New would, without making a gate: for a program
// that validates its settings before it starts.
func (c Config) Check() error {
	var errs []error
	for _, o := range c.AllowedOrigins {
		if _, err := NormalizeOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("allowed origins: %w", err))
		}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("jwt secret: use at least 32 characters"))
	}
	return errors.Join(errs...)
}

// Gate admits handshakes and keeps the connections it let in. Make it
// with [New]; its methods are safe for concurrent use.
type Gate struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics.Metrics
	origins  map[string]bool // normalized allowed origins besides the server's own
	hosts    map[string]bool // allowed host names besides the loopback ones, lower case
	jwtKey   []byte
	upgrader websocket.Upgrader
	sessions sessionSet
	logins   *keyrate.Limiter // guest logins per address
	nextID   atomic.Uint64
}

// New returns a gate. log and m may be nil (nothing logged, nothing
// counted). It fails only for a Config that Check refuses.
func New(cfg Config, log *slog.Logger, m *metrics.Metrics) (*Gate, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gate{cfg: cfg, log: log, metrics: m, origins: map[string]bool{}, hosts: map[string]bool{}, jwtKey: newJWTKey(cfg.JWTSecret),
		logins: keyrate.New(LoginRate, LoginBurst, 10000)}
	for _, h := range cfg.AllowedHosts {
		g.hosts[strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")] = true
	}
	for _, o := range cfg.AllowedOrigins {
		n, _ := NormalizeOrigin(o) // checked above
		g.origins[n] = true
	}
	m.DeclareRejectReasons(Reasons...)
	g.upgrader = websocket.Upgrader{
		// A small read buffer: what an idle connection holds. Messages
		// larger than it are read in several steps.
		ReadBufferSize: 1 << 10,
		// gorilla's writer is not used (package wsconn writes frames
		// itself): with a pool, no connection holds a write buffer.
		WriteBufferSize: 4 << 10,
		WriteBufferPool: &sync.Pool{},
		// Compression stays off: permessage-deflate has no bound on the
		// decompressed size in gorilla, so a small frame could inflate
		// past the read limit's intent.
		EnableCompression: false,
		// Admit checks the origin earlier, with a log line and a precise
		// answer; the upgrader checks again so that no path skips it.
		CheckOrigin: func(r *http.Request) bool {
			_, ok := g.checkOrigin(r)
			return ok
		},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			g.reject(w, r, Refuse(status, ReasonBadHandshake, reason.Error()))
		},
	}
	return g, nil
}

// Endpoint describes an endpoint to Admit.
type Endpoint struct {
	// Name is the endpoint's name in metrics and logs: one of
	// shared.Endpoints, or a name of the embedding program's own.
	Name string
	// NameParam is the query parameter that names the user when the
	// handshake has no token ("username" for chat, "user_id" for
	// notifications); with a token, the token's subject is the user
	// instead. Empty: the endpoint takes no name, and a connection
	// without a token is anonymous (user "").
	NameParam string
	// Check, if not nil, runs after the connection caps, just before the
	// upgrade, with the user the handshake is for. It checks the
	// endpoint's own query and reserves what the connection will need,
	// without starting anything. A non-nil Refusal refuses the handshake;
	// otherwise, if the upgrade then fails, Admit calls undo (when not
	// nil) to give back what Check reserved, and if it succeeds the
	// caller owns it.
	Check func(r *http.Request, user string) (undo func(), refusal *Refusal)
	// Batch confirms shared.SubprotocolBatch to a client that offers it:
	// for an endpoint whose every text message is one JSON object, which
	// may then go several to a frame, one per line.
	Batch bool
}

// Refusal is the answer to a handshake that will not be upgraded.
type Refusal struct {
	Status int
	// Reason is a short, fixed description for logs and for the
	// handshakes_rejected metric's label ("bad room name"): never client
	// input.
	Reason string
	// Message is the body, for the client's developer: what was wrong and
	// what to do. It never repeats a token.
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
}

// Refuse returns a Refusal with the given status, reason and message.
func Refuse(status int, reason, message string) *Refusal {
	return &Refusal{Status: status, Reason: reason, Message: message}
}

// The reasons Admit refuses handshakes for. Endpoints add their own.
const (
	ReasonNotWebSocket = "not a websocket handshake"
	ReasonBadVersion   = "unsupported websocket version"
	ReasonShuttingDown = "shutting down"
	ReasonNullOrigin   = "null origin"
	ReasonBadOrigin    = "malformed origin"
	ReasonForeign      = "origin not allowed"
	ReasonNoToken      = "no token"
	ReasonBadToken     = "bad token"
	ReasonTooMany      = "too many connections"
	ReasonTooManyIP    = "too many connections from this address"
	ReasonTooManyUser  = "too many connections for this user"
	ReasonBadHandshake = "bad handshake"
)

// Reasons lists the reasons above; New declares them to the metrics, so
// that each reports 0 from the start.
var Reasons = []string{
	ReasonNotWebSocket, ReasonBadVersion, ReasonShuttingDown, ReasonNullOrigin, ReasonBadOrigin,
	ReasonForeign, ReasonNoToken, ReasonBadToken, ReasonTooMany, ReasonTooManyIP, ReasonTooManyUser,
	ReasonBadHandshake, ReasonBadHost,
}

// Admit takes a handshake for ep through the pipeline (see the package
// doc). On a refusal it has answered and logged, and returns nil. Else it
// returns the upgraded connection, registered in the gate, and the user
// it is for ("" when anonymous); the caller must Start it exactly once,
// which forgets it when it ends.
func (g *Gate) Admit(w http.ResponseWriter, r *http.Request, ep Endpoint) (*wsconn.Conn, string) {
	if ref := g.checkHandshake(r); ref != nil {
		if ref.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodGet)
		}
		if ref.Status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		g.reject(w, r, ref)
		return nil, ""
	}
	user, ref := g.identifyHandshake(r, ep.NameParam)
	if ref != nil {
		if ref.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay"`)
		}
		g.reject(w, r, ref)
		return nil, ""
	}
	// The per-user cap is for proven identities: a name a client only
	// claims would let anyone lock its owner out with idle sockets.
	ip, capped := remoteIP(r), ""
	if Authenticated(r) {
		capped = user
	}
	if ref := g.sessions.reserve(&g.cfg, ip, capped); ref != nil {
		g.reject(w, r, ref)
		return nil, ""
	}
	var undo func()
	if ep.Check != nil {
		if undo, ref = ep.Check(r, user); ref != nil {
			g.sessions.unreserve(ip, capped)
			g.reject(w, r, ref)
			return nil, ""
		}
	}
	stats := g.metrics.Endpoint(ep.Name)
	ws, err := wsconn.Upgrade(&g.upgrader, w, r, ep.Batch, stats)
	if err != nil {
		g.sessions.unreserve(ip, capped)
		if undo != nil {
			undo()
		}
		return nil, "" // the upgrader's Error has answered and logged
	}
	id, name, remote := g.nextID.Add(1), ep.Name, r.RemoteAddr
	s := &session{ip: ip, user: capped, stats: stats}
	s.c = wsconn.New(ws, g.cfg.Conn, wsconn.Options{
		Log: g.log,
		// Made only when the connection logs: an idle connection holds
		// this function, not the attributes.
		LogArgs: func() []any { return []any{"conn", id, "endpoint", name, "remote", remote} },
		Stats:   stats,
		OnEnd:   func() { g.sessions.remove(s) },
	})
	if !g.sessions.add(s) {
		// Shutdown began during the upgrade: the caller runs it, and it
		// says goodbye at once.
		g.sessions.unreserve(ip, capped)
		s.c.Close(websocket.CloseGoingAway, shared.ReasonShutdown)
	} else {
		if g.log.Enabled(r.Context(), slog.LevelDebug) { // the logger is built only then
			s.c.Log().Debug("connected")
		}
	}
	return s.c, user
}

// checkHandshake is the pipeline's first three steps and the origin.
func (g *Gate) checkHandshake(r *http.Request) *Refusal {
	switch {
	case !websocket.IsWebSocketUpgrade(r) && r.Method != http.MethodGet:
		return Refuse(http.StatusMethodNotAllowed, ReasonNotWebSocket, "this is a WebSocket endpoint: use GET with an Upgrade: websocket header")
	case !websocket.IsWebSocketUpgrade(r):
		return Refuse(http.StatusBadRequest, ReasonNotWebSocket, "this is a WebSocket endpoint: connect with a WebSocket client, not a plain HTTP request")
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return Refuse(http.StatusUpgradeRequired, ReasonBadVersion, "unsupported WebSocket version: this server speaks version 13")
	case g.sessions.isClosing():
		return Refuse(http.StatusServiceUnavailable, ReasonShuttingDown, "the server is shutting down")
	case !g.hostAllowed(r):
		return Refuse(http.StatusMisdirectedRequest, ReasonBadHost,
			"this server does not answer to that host name: use localhost, 127.0.0.1 or a name in its allowed hosts")
	}
	if reason, ok := g.checkOrigin(r); !ok {
		return Refuse(http.StatusForbidden, reason, "origin not allowed: open the page from this server, or add its origin to the allowed origins")
	}
	return nil
}

// reject answers a request that will not become a WebSocket, and logs it
// at Info: it is the client's doing, not a server fault.
func (g *Gate) reject(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	// The path and origin are the client's: logged cut short, so that a
	// 15 KB Origin on every refusal cannot fill the log.
	g.log.Info("handshake rejected", "status", ref.Status, "reason", ref.Reason,
		"path", clip(r.URL.Path), "origin", clip(r.Header.Get("Origin")), "remote", r.RemoteAddr)
	g.metrics.HandshakeRejected(ref.Reason)
	if explainable(r, ref) {
		g.explain(w, r, ref)
		return
	}
	if ref.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(ref.RetryAfter.Round(time.Second)/time.Second)))
	}
	http.Error(w, ref.Message, ref.Status)
}

// explainable reports whether a refusal goes to the client as a close
// code rather than an HTTP status (see shared.SubprotocolExplain): only
// for a WebSocket handshake of version 13 that offers the subprotocol,
// and never for a host name the server does not answer to, which is
// what a DNS-rebinding page would send.
func explainable(r *http.Request, ref *Refusal) bool {
	switch ref.Status {
	case http.StatusMethodNotAllowed, http.StatusUpgradeRequired, http.StatusMisdirectedRequest:
		return false
	}
	return websocket.IsWebSocketUpgrade(r) && r.Header.Get("Sec-WebSocket-Version") == "13" &&
		slices.Contains(websocket.Subprotocols(r), shared.SubprotocolExplain)
}

// explain answers a refused handshake by upgrading it and closing at once
// with shared.CloseRefusedBase plus the status, the message as the
// reason. The connection is never registered, counted or read from: the
// close frame is written and the socket closed before explain returns.
func (g *Gate) explain(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	up := websocket.Upgrader{
		HandshakeTimeout: time.Second,
		Subprotocols:     []string{shared.SubprotocolExplain},
		// The origin was checked, or is what is being refused: the socket
		// carries nothing but the refusal.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			http.Error(w, ref.Message, ref.Status) // the upgrade itself failed: the plain answer
		},
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	code := shared.CloseRefusedBase + ref.Status
	msg := websocket.FormatCloseMessage(code, shared.ClipCloseReason(ref.Message))
	if err := ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		g.log.Debug("cannot explain a refusal", "err", err)
	}
}

// clip cuts a string the client chose to at most 100 bytes for a log.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// Closing reports whether Shutdown has begun.
func (g *Gate) Closing() bool { return g.sessions.isClosing() }

// Len returns the number of live connections.
func (g *Gate) Len() int { return g.sessions.len() }

// Conns returns the live connections, for diagnostics and tests.
func (g *Gate) Conns() []*wsconn.Conn { return g.sessions.conns() }

// Shutdown refuses new handshakes (503), asks every live connection to
// close with 1001 (each connection's writer sends it, so all go out at
// once), and waits for them to end. When ctx ends first it hangs up on the
// rest and returns ctx's error. Calling it again waits again.
func (g *Gate) Shutdown(ctx context.Context) error { return g.sessions.shutdown(ctx) }

// remoteIP is the client a request came from, as the caps count it: its
// IPv4 address, or the /64 of its IPv6 address (one host usually holds a
// whole /64, and could otherwise pick a new address for each socket). The
// gate does not trust X-Forwarded-For: behind a proxy, every client
// shares the proxy's address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// ClientAddress returns the key the gate counts r's client under (see
// the caps): its IPv4 address, or its IPv6 /64.
func ClientAddress(r *http.Request) string { return remoteIP(r) }
