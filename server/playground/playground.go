// Package playground wires the whole wsplay server: the admission gate,
// the endpoints (echo, chat, notifications, dashboard), the store, the
// broker, the metrics and the page, behind one http.Handler.
//
// A [Playground] is made with [New] from a [Config], whose zero value is
// ready to use (its data in ./data, the page built into the binary), and
// runs on any http.Server; [Playground.HTTPServer] returns one with the
// timeouts the playground needs. Command wsplay (package main in server/)
// is only flags over this; servertest runs it in a test.
//
// # The data path
//
//	client ──handshake──▶ gate ──▶ wsconn reader ────▶ chat hub / notify service
//	                                                          │ store, then publish
//	client ◀── wsconn writer ◀──── hub (one per process) ◀── broker
//
// A handshake passes the gate's pipeline (origin, identity, caps, the
// endpoint's own checks) and is upgraded to a wsconn.Conn. Its reader
// hands each message to the endpoint; the endpoint stores what must last
// and publishes it through the broker under a room's or a user's key; the
// broker delivers it to the subscribers of that key, and each queues it
// for its connections, whose writers send it.
package playground

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"wsplay/server/broker"
	"wsplay/server/chat"
	"wsplay/server/dashboard"
	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/notify"
	"wsplay/server/store"
	"wsplay/site"
)

// Config is everything the playground can be told. The zero value is
// ready to use; each field says its default.
type Config struct {
	// DataDir holds the database (chat history, notifications). Default
	// ./data.
	DataDir string
	// MetricsToken, when set, is the bearer token GET /metrics requires.
	// Default none: /metrics answers anyone. At least 16 characters.
	MetricsToken string
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers, the WebSocket handshake included, so that one
	// dribbling them a byte at a time (slowloris) is dropped. Default 10 s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a keep-alive HTTP connection may wait for
	// its next request. WebSockets are not affected: they have their pong
	// deadline. Default 60 s.
	IdleTimeout time.Duration
	// BodyTimeout bounds how long a plain HTTP request may take to send
	// its body, and ResponseTimeout how long its client may take to read
	// the answer (the page's client, 1.5 MB, included). WebSockets are not
	// affected. Defaults 10 s and 60 s.
	BodyTimeout     time.Duration
	ResponseTimeout time.Duration
	// MaxHTTPConns bounds the plain HTTP connections open at once, idle
	// keep-alives included; past it a new connection is closed at once.
	// Upgraded WebSockets do not count (the gate caps them). Default 512.
	MaxHTTPConns int
	// NATS, when set, makes this process one of several that share chat
	// rooms through NATS JetStream: a comma-separated list of server
	// URLs (nats://host:4222), or NATSEmbedded to start a server in the
	// process (for a one-command demo of the same code path). Each room's
	// history is then a stream, numbered by NATS, and followed by every
	// process; who is in each room is in a key-value bucket
	// (store.KVPresence), so a user is listed once across processes and
	// tabs; typing crosses through the broker. Notifications are in a
	// key-value bucket too (store.JetStreamNotify): posted to any process,
	// they reach the user's tabs on every one, and so does marking them
	// read. The dashboard shows this process and the cluster's totals.
	// Default none: one process, nothing of NATS runs.
	NATS string
	// NATSPresenceTTL is, with NATS, how long a process's presence keys
	// outlive its last refresh, so how soon the users of a process that
	// died without a goodbye leave the rooms elsewhere; each process
	// refreshes its keys every third of it (at most every 10 s). It is
	// the bucket's setting, so every process sharing NATS must give the
	// same: the last one to start sets it for all. At least 1 s.
	// Default store.DefaultPresenceTTL (30 s).
	NATSPresenceTTL time.Duration

	// Gate is who may connect, and how connections behave.
	Gate gate.Config
	// Chat, Notify and Dashboard configure the endpoints. An empty
	// Notify.AdminToken is replaced by a random one, logged once at Info.
	Chat      chat.Config
	Notify    notify.Config
	Dashboard dashboard.Config
}

// The defaults of Config.
const (
	DefaultDataDir           = "data"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultBodyTimeout       = 10 * time.Second
	DefaultResponseTimeout   = 60 * time.Second
	DefaultMaxHTTPConns      = 512
)

// Check reports what New would refuse in cfg.
func (c Config) Check() error {
	var errs []error
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("metrics token: must be at least 16 characters (or leave it unset for a public /metrics)"))
	}
	if t := c.Notify.AdminToken; t != "" && len(t) < 16 {
		errs = append(errs, errors.New("admin token: must be at least 16 characters (or leave it unset for a random one)"))
	}
	if c.NATSPresenceTTL > 0 && c.NATSPresenceTTL < time.Second {
		// NATS refuses a bucket's limit markers under a second.
		errs = append(errs, fmt.Errorf("nats presence TTL %v: must be at least 1s (or zero for the default)", c.NATSPresenceTTL))
	}
	errs = append(errs, c.Gate.Check(), c.Dashboard.Check(), checkNATS(c.NATS))
	return errors.Join(errs...)
}

// Deps are what a Playground is built with besides its Config. Every
// field may be left nil.
type Deps struct {
	// Log receives every log line. Default: discarded.
	Log *slog.Logger
	// Site is the page. Default: the copy built into the binary
	// (site.Files).
	Site fs.FS
	// Broker carries chat rooms and notification changes. Default: a
	// broker.Memory, for one process.
	Broker broker.Broker
	// ChatStore keeps the chat history in place of the SQLite store, which
	// keeps the notifications either way. Default: the SQLite store.
	ChatStore chat.Store
	// ChatPresence makes each chat room's Presence. Default: chat's own,
	// in memory.
	ChatPresence func(room string) chat.Presence
	// Echo serves /ws/echo in place of the playground's own, which goes
	// through the admission gate: a workshop's echo handler, say.
	// Default: Echo.
	Echo http.Handler
	// Chat serves /ws/chat in place of the chat service (a workshop's
	// hub behind an adapter, say); /api/rooms still lists the service's
	// rooms. Default: the chat service.
	Chat http.Handler
}

// Playground is the whole server. Its methods are safe for concurrent use.
type Playground struct {
	cfg       Config
	log       *slog.Logger
	site      *siteHandler
	metrics   *metrics.Metrics
	gate      *gate.Gate
	store     *store.Store
	broker    broker.Broker
	nats      *natsLink // nil without Config.NATS
	cluster   *cluster  // the dashboard's view of the processes sharing NATS; nil without it
	chat      *chat.Service
	notify    *notify.Service
	dashboard *dashboard.Service
	handler   http.Handler
	echo      http.Handler // Deps.Echo
	chatWS    http.Handler // Deps.Chat

	httpMu    sync.Mutex        // guards httpConns
	httpConns map[net.Conn]bool // plain HTTP connections open, for MaxHTTPConns
}

// New builds the playground: it opens the store and indexes the page.
func New(cfg Config, deps Deps) (*Playground, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if cfg.MaxHTTPConns <= 0 {
		cfg.MaxHTTPConns = DefaultMaxHTTPConns
	}
	p := &Playground{cfg: cfg, log: deps.Log, broker: deps.Broker, metrics: metrics.New(), httpConns: map[net.Conn]bool{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var (
		chatStore   chat.Store
		notifyStore notify.Store
	)
	notifyBroker := p.broker
	if cfg.NATS != "" {
		link, err := connectNATS(context.Background(), cfg.NATS, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		p.nats = link
		p.log.Info("sharing chat rooms and notifications through NATS JetStream", "nats", link.URL(), "embedded", link.server != nil)
		if p.broker == nil {
			p.broker = broker.NewNATS(link.conn, "wsplay")
			// Every process follows its users' notifications in the
			// bucket: the broker only hands them to this process's tabs.
			notifyBroker = broker.NewMemory()
		}
		if notifyStore, err = store.NewJetStreamNotify(context.Background(), link.js, p.log); err != nil {
			link.close()
			return nil, err
		}
		if deps.ChatStore == nil {
			chatStore = store.NewJetStreamChat(link.js)
		}
		if deps.ChatPresence == nil {
			if deps.ChatPresence, err = store.NewKVPresences(context.Background(), link.js, store.PresenceOptions{TTL: cfg.NATSPresenceTTL}); err != nil {
				link.close()
				return nil, err
			}
		}
	}
	if p.broker == nil {
		p.broker = broker.NewMemory()
	}
	if notifyBroker == nil {
		notifyBroker = p.broker
	}
	siteFS := deps.Site
	if siteFS == nil {
		siteFS = site.Files()
	}
	var err error
	if p.site, err = newSiteHandler(siteFS); err != nil {
		return nil, err
	}
	if cfg.Gate.NameTaken == nil {
		// Under -require-auth a guest may not take the name of a user
		// with notifications waiting.
		cfg.Gate.NameTaken = func(ctx context.Context, user string) bool {
			return p.notify != nil && p.notify.HasNotifications(ctx, user)
		}
	}
	if p.gate, err = gate.New(cfg.Gate, p.log, p.metrics); err != nil {
		return nil, err
	}
	if p.store, err = store.Open(cfg.DataDir); err != nil {
		p.nats.close()
		return nil, err
	}
	if p.cfg.Notify.AdminToken == "" {
		p.cfg.Notify.AdminToken = rand.Text()
		p.log.Info("no -admin-token given: generated one for this run; send it as \"Authorization: Bearer TOKEN\" to /api/notifications",
			"admin_token", p.cfg.Notify.AdminToken)
	}
	if deps.ChatStore != nil {
		chatStore = deps.ChatStore
	} else if chatStore == nil {
		chatStore = p.store
	}
	p.echo, p.chatWS = deps.Echo, deps.Chat
	p.chat, err = chat.New(cfg.Chat, chat.Deps{Store: chatStore, Broker: p.broker, Gate: p.gate, Metrics: p.metrics, Log: p.log, NewPresence: deps.ChatPresence})
	if err == nil {
		if notifyStore == nil {
			notifyStore = p.store
		}
		p.notify, err = notify.New(p.cfg.Notify, notify.Deps{Store: notifyStore, Broker: notifyBroker, Gate: p.gate, Metrics: p.metrics, Log: p.log})
	}
	var cl dashboard.Cluster
	if err == nil && p.nats != nil {
		p.cluster, err = startCluster(context.Background(), p.nats.js, nodeName(), p.gate.Len)
		if err == nil {
			cl = p.cluster
		}
	}
	if err == nil {
		p.dashboard, err = dashboard.New(cfg.Dashboard, dashboard.Deps{Metrics: p.metrics, Gate: p.gate, Log: p.log, Cluster: cl})
	}
	if err != nil {
		p.store.Close()
		p.cluster.close()
		p.nats.close()
		return nil, err
	}
	p.handler = p.routes()
	return p, nil
}

// Handler returns every route of the playground: the endpoints, the HTTP
// APIs, /healthz, /metrics and the page.
func (p *Playground) Handler() http.Handler { return p.handler }

// HTTPServer returns an http.Server for the playground's handler. It
// sets no ReadTimeout or WriteTimeout, which would also cut WebSockets
// short: each plain route sets its own deadlines (Config.BodyTimeout,
// ResponseTimeout), and upgraded connections theirs. Its ConnState
// closes a plain connection beyond Config.MaxHTTPConns at once.
func (p *Playground) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
		ConnState:         p.trackConn,
	}
}

// trackConn counts the plain HTTP connections and closes one beyond
// Config.MaxHTTPConns as it arrives.
func (p *Playground) trackConn(c net.Conn, state http.ConnState) {
	p.httpMu.Lock()
	defer p.httpMu.Unlock()
	switch state {
	case http.StateNew:
		if len(p.httpConns) >= p.cfg.MaxHTTPConns {
			p.metrics.HandshakeRejected(reasonTooManyHTTP)
			c.Close()
			return
		}
		p.httpConns[c] = true
	case http.StateHijacked, http.StateClosed:
		delete(p.httpConns, c)
	}
}

// HTTPConns returns how many plain HTTP connections (of the servers
// HTTPServer made) are open now, WebSockets not included.
func (p *Playground) HTTPConns() int {
	p.httpMu.Lock()
	defer p.httpMu.Unlock()
	return len(p.httpConns)
}

// reasonTooManyHTTP counts connections closed for Config.MaxHTTPConns.
const reasonTooManyHTTP = "too many http connections"

// Shutdown closes every connection with 1001 (http.Server.Shutdown does
// not track hijacked connections), stops the rooms, lets notification
// requests already admitted finish (later ones get 503), and closes the
// store. When ctx ends first, connections are cut and its error is
// returned. Run it beside the http.Server's own Shutdown.
func (p *Playground) Shutdown(ctx context.Context) error {
	err := p.gate.Shutdown(ctx)
	p.dashboard.Wait() // each sampler stops as its last viewer leaves
	chatErr := p.chat.Shutdown(ctx)
	notifyErr := p.notify.Shutdown(ctx)
	defer p.nats.close()    // after the rooms: their last messages are stored
	defer p.cluster.close() // first of the two
	if err := errors.Join(err, chatErr, notifyErr); err != nil {
		return errors.Join(fmt.Errorf("shutdown: %w", err), p.store.Close())
	}
	return p.store.Close()
}

// SiteBuilt reports whether the page's WebAssembly client is there; when
// it is not, the page says so.
func (p *Playground) SiteBuilt() bool {
	_, ok := p.site.lookup("dist/main.wasm")
	return ok
}

// Gate returns the admission gate, with the live connections.
func (p *Playground) Gate() *gate.Gate { return p.gate }

// Chat returns the chat endpoint.
func (p *Playground) Chat() *chat.Service { return p.chat }

// Notify returns the notification endpoint.
func (p *Playground) Notify() *notify.Service { return p.notify }

// Dashboard returns the dashboard endpoint.
func (p *Playground) Dashboard() *dashboard.Service { return p.dashboard }

// Metrics returns what the playground counts about itself.
func (p *Playground) Metrics() *metrics.Metrics { return p.metrics }

// Broker returns the broker the endpoints publish through.
func (p *Playground) Broker() broker.Broker { return p.broker }

// AdminToken returns the notification API's token, given or generated.
func (p *Playground) AdminToken() string { return p.cfg.Notify.AdminToken }

// DataDir returns the directory of the database.
func (p *Playground) DataDir() string { return p.cfg.DataDir }
