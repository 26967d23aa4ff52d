// Package notify is the notification endpoint: notifications per user,
// delivered to every tab and device the user has open, exactly once each
// and in order, stored until read; marking read and poking other users
// over the socket; and the HTTP API that back-end systems send them with.
//
// A [Service] is made with [New] from a [Config], whose zero value is
// ready to use, and its dependencies, each optional: where notifications
// are kept (a [Store]; default in memory), how each user's changes reach
// their connections (a broker.Broker; default in this process), who may
// connect (a gate.Gate) and what is counted. Package notifytest checks
// any Store.
package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"wsplay/server/broker"
	"wsplay/server/gate"
	"wsplay/server/internal/keyrate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Config is how notifications behave. The zero value is ready to use:
// each field says its default, taken when it is zero (or not positive).
type Config struct {
	// Retention is how many notifications each user keeps; older ones are
	// deleted, read or not. Default 500.
	Retention int
	// MaxUsers bounds the users the store knows: those with
	// notifications, and those who connected and have none yet (who
	// receive broadcasts). A new user beyond it makes the store forget
	// the longest-unseen user who has none; if every user has some, a
	// notification for a new user is refused. Default 10,000.
	MaxUsers int
	// PokeRetention is how many pokes each user keeps, a budget apart
	// from Retention's, so that pokes never push out a notification from
	// the back end. Default 50.
	PokeRetention int
	// PokeInterval and PokeBurst limit pokes: each sending user, whatever
	// their connections, and each recipient, whoever sends, may have
	// PokeBurst in a row, then one per PokeInterval. Default 1 s and 3.
	PokeInterval time.Duration
	PokeBurst    int
	// MessageRate is how many messages a second one connection may send,
	// with bursts of MessageBurst. Defaults 10 and 20.
	MessageRate  float64
	MessageBurst int
	// SendQueue bounds the changes that may wait for a connection while
	// its stored notifications are being sent; past it the connection is
	// too slow and is closed with 1008. Default 256.
	SendQueue int
	// AdminToken authorises the HTTP API (a bearer token). Default none:
	// the API refuses every request with 401.
	AdminToken string
	// Faults lets each connection ask the server to inject a fault into
	// itself (shared.TypeFault), for teaching, as on chat: no_pong
	// leaves its pings unanswered, stall_reads closes it with 1008 once
	// more than its bound of notifications wait. Off, such a request
	// gets an error of code forbidden. Default off.
	Faults bool
}

// The defaults of Config.
const (
	DefaultRetention     = 500
	DefaultMaxUsers      = 10000
	DefaultPokeRetention = 50
	DefaultPokeInterval  = time.Second
	DefaultPokeBurst     = 3
)

func (c Config) withDefaults() Config {
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxUsers <= 0 {
		c.MaxUsers = DefaultMaxUsers
	}
	if c.PokeRetention <= 0 {
		c.PokeRetention = DefaultPokeRetention
	}
	if c.PokeInterval <= 0 {
		c.PokeInterval = DefaultPokeInterval
	}
	if c.PokeBurst <= 0 {
		c.PokeBurst = DefaultPokeBurst
	}
	if c.SendQueue <= 0 {
		c.SendQueue = wsconn.DefaultSendQueue
	}
	return c
}

// Deps are what a Service works with. Every field may be left nil.
type Deps struct {
	// Store keeps the notifications. Default: a MemoryStore.
	Store Store
	// Broker carries each user's changes to their connections. Default:
	// a broker.Memory, which reaches this process only. With a
	// SharedStore, leave it nil: the store's Follow brings every
	// process's changes, and the broker only hands them to this
	// process's connections.
	Broker broker.Broker
	// Gate admits the handshakes. Default: a gate of the zero
	// gate.Config, which the Service shuts down itself. A gate given here
	// belongs to the caller, who shuts it down before the Service.
	Gate *gate.Gate
	// Metrics counts notifications stored and delivered, and users
	// online. Default: nothing is counted.
	Metrics *metrics.Metrics
	// Log receives the service's log lines. Default: discarded.
	Log *slog.Logger
}

// New returns a notification service. It fails only when it must make a
// gate of its own and cannot.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	n := &Service{cfg: cfg, log: deps.Log, store: deps.Store, delivery: deps.Broker, gate: deps.Gate, metrics: deps.Metrics,
		online:        map[string]int{},
		pokesSent:     keyrate.New(float64(time.Second)/float64(cfg.PokeInterval), cfg.PokeBurst, 100000),
		pokesReceived: keyrate.New(float64(time.Second)/float64(cfg.PokeInterval), cfg.PokeBurst, 100000),
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.store == nil {
		n.store = NewMemoryStore()
	}
	if n.delivery == nil {
		n.delivery = broker.NewMemory()
	}
	if n.gate == nil {
		g, err := gate.New(gate.Config{}, n.log, n.metrics)
		if err != nil {
			return nil, err
		}
		n.gate, n.ownsGate = g, true
	}
	if ss, ok := n.store.(SharedStore); ok {
		n.shared, n.follows = ss, map[string]*following{}
	}
	n.metrics.DeclareRejectReasons(ReasonBadSince)
	return n, nil
}

// ReasonBadSince is the reason a handshake with a since= that is not a
// whole number is refused for.
const ReasonBadSince = "bad since"

// Notify stores a notification for n.UserID (Type, Title, Message and
// Data set; the rest is the service's) and delivers it to every
// connection of the user; it returns it as stored. It fails with ErrFull
// for a new user when the store has no room. It is what POST
// /api/notifications does, for programs that embed the service.
func (n *Service) Notify(ctx context.Context, note shared.Notification) (shared.Notification, error) {
	if !n.begin() {
		return shared.Notification{}, ErrShuttingDown
	}
	defer n.end()
	note.ID = newID()
	stored, err := n.add(ctx, false, note)
	if err != nil {
		return shared.Notification{}, err
	}
	return stored[0], nil
}

// HasNotifications reports whether the store holds notifications for
// user. When it cannot tell, it says yes: the caller is deciding whether
// a name is taken.
func (n *Service) HasNotifications(ctx context.Context, user string) bool {
	notes, err := n.store.ListNotifications(ctx, user, false)
	return err != nil || len(notes) > 0
}

// ErrShuttingDown refuses work once Shutdown has begun.
var ErrShuttingDown = errors.New("the notification service is shutting down")

// Shutdown refuses new work and waits for what was admitted: a POST that
// began is stored and answered. If the Service made its own gate, it
// first closes every connection with 1001 through it; a gate given in
// Deps must be shut down by its owner first. Calling it again is
// harmless.
func (n *Service) Shutdown(ctx context.Context) error {
	var err error
	if n.ownsGate {
		err = n.gate.Shutdown(ctx)
	}
	return errors.Join(err, n.shutdown(ctx))
}

// Service is the notification service: it stores notifications (in its
// Store), publishes each stored change to the user's connections through
// a broker, and serves /ws/notifications (ServeHTTP) and the HTTP API
// (APIHandler). Its methods are safe for concurrent use.
//
// Delivery is exact because of three rules:
//
//   - Every change is stored before it is published, and a user's changes
//     are numbered (version) in the transaction that stores them.
//   - mu makes "store, then publish" one step, so each user's changes are
//     published in version order. It is held for one SQLite transaction
//     (which SQLite serialises anyway: one writer) and a publish, which
//     never waits on a connection.
//   - A connecting client is subscribed before its snapshot is read, and
//     live changes wait until the snapshot is sent; then those the
//     snapshot already holds (version not above its version) are
//     dropped. So a notification stored while the client connects
//     arrives exactly once, whichever side of the snapshot it fell.
type Service struct {
	cfg      Config
	log      *slog.Logger
	store    Store
	delivery broker.Broker // carries each user's changes under Key
	gate     *gate.Gate
	ownsGate bool
	metrics  *metrics.Metrics // nil counts nothing

	mu sync.Mutex // serialises store-then-publish; see the type's doc

	// Pokes are limited per sending user and per recipient, not per
	// connection: a reconnect does not refill them.
	pokesSent, pokesReceived *keyrate.Limiter

	onlineMu sync.Mutex     // guards online
	online   map[string]int // notification connections per user

	// With a SharedStore: the users followed, those with connections here.
	shared   SharedStore
	followMu sync.Mutex // guards follows
	follows  map[string]*following

	gateMu sync.Mutex // guards closed
	closed bool
	active sync.WaitGroup // requests and connections using the store
}

// begin admits a request or connection that will use the store; it
// reports false once shutdown has begun. Each true must be matched by end.
func (n *Service) begin() bool {
	n.gateMu.Lock()
	defer n.gateMu.Unlock()
	if n.closed {
		return false
	}
	n.active.Add(1)
	return true
}

func (n *Service) end() { n.active.Done() }

// shutdown refuses new work and waits for what was admitted.
func (n *Service) shutdown(ctx context.Context) error {
	n.gateMu.Lock()
	n.closed = true
	n.gateMu.Unlock()
	done := make(chan struct{})
	go func() {
		n.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("notifications: %w", ctx.Err())
	}
}

// add stores ns and publishes them; it returns them as stored. It sets
// their Timestamp, under mu, so that a user's timestamps never go back as
// their seqs go up. With knownOnly, a notification for a user the store
// does not know is refused with ErrUnknownUser. A new user's notification
// may be refused with ErrFull.
func (n *Service) add(ctx context.Context, knownOnly bool, ns ...shared.Notification) ([]shared.Notification, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now().UTC()
	for i := range ns {
		ns[i].Timestamp = now
	}
	changes, err := n.store.AddNotifications(ctx, ns, n.limits(), knownOnly)
	if err != nil {
		return nil, err
	}
	out := make([]shared.Notification, len(changes))
	for i, ch := range changes {
		n.metrics.NotificationStored()
		n.committed(ch)
		out[i] = *ch.Note
	}
	return out, nil
}

// broadcast stores tmpl for every known user and publishes it; it returns
// how many users it reached, also when it fails.
func (n *Service) broadcast(ctx context.Context, tmpl shared.Notification) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	tmpl.Timestamp = time.Now().UTC()
	// A store shared by several processes may fail part way, having
	// stored some copies: those are published, and counted.
	changes, err := n.store.BroadcastNotification(ctx, tmpl, n.limits())
	for _, ch := range changes {
		n.metrics.NotificationStored()
		n.committed(ch)
	}
	return len(changes), err
}

// following is a user whose changes this process follows in a shared
// store, for n connections.
type following struct {
	n    int
	stop func()
}

// follow starts following user's changes in a shared store, or counts
// one more connection of a user followed already; unfollow undoes it.
// Without a shared store both do nothing. Once follow returns, every
// change committed later reaches the user's connections here.
func (n *Service) follow(user string) error {
	if n.shared == nil {
		return nil
	}
	n.followMu.Lock()
	defer n.followMu.Unlock()
	if f := n.follows[user]; f != nil {
		f.n++
		return nil
	}
	stop, err := n.shared.Follow(user, n.publish)
	if err != nil {
		return err
	}
	n.follows[user] = &following{n: 1, stop: stop}
	return nil
}

func (n *Service) unfollow(user string) {
	if n.shared == nil {
		return
	}
	n.followMu.Lock()
	defer n.followMu.Unlock()
	f := n.follows[user]
	if f == nil {
		return
	}
	if f.n--; f.n == 0 {
		delete(n.follows, user)
		f.stop()
	}
}

// committed publishes a change this process committed, unless a shared
// store's Follow brings it (to every process, this one included).
func (n *Service) committed(ch Change) {
	if n.shared == nil {
		n.publish(ch)
	}
}

func (n *Service) limits() Limits {
	return Limits{Keep: n.cfg.Retention, KeepPokes: n.cfg.PokeRetention, MaxUsers: n.cfg.MaxUsers, InUse: n.isOnline}
}

// connected and disconnected count a user's notification connections.
func (n *Service) connected(user string) {
	n.onlineMu.Lock()
	defer n.onlineMu.Unlock()
	n.online[user]++
}

func (n *Service) disconnected(user string) {
	n.onlineMu.Lock()
	defer n.onlineMu.Unlock()
	if n.online[user]--; n.online[user] <= 0 {
		delete(n.online, user)
	}
}

// isOnline reports whether user has a notification connection here: the
// store does not forget them to make room.
func (n *Service) isOnline(user string) bool {
	n.onlineMu.Lock()
	defer n.onlineMu.Unlock()
	return n.online[user] > 0
}

// markRead marks one of user's notifications read and tells all of the
// user's connections. It returns ErrNotYours for anyone else's id.
func (n *Service) markRead(ctx context.Context, user, id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, changed, err := n.store.MarkRead(ctx, user, id)
	if err == nil && changed {
		n.committed(ch)
	}
	return err
}

// markAllRead marks user's notifications up to seq (0: all) read and
// tells all of the user's connections.
func (n *Service) markAllRead(ctx context.Context, user string, upTo uint64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, changed, err := n.store.MarkAllRead(ctx, user, upTo)
	if err == nil && changed {
		n.committed(ch)
	}
	return err
}

// publish encodes a stored change once and hands it to the broker under
// the user's key, numbered by its version: every connection of the user,
// in this process or another, drops an event whose version it already
// has, so a transport that delivers twice does no harm, and the store
// remains the source of truth for a reconnect. Called with mu held, so a
// user's changes are published one at a time, in version order; or, with
// a shared store, from the user's Follow, which delivers in version order.
func (n *Service) publish(ch Change) {
	m := shared.NotifyMessage{Unread: ch.Unread}
	switch {
	case ch.Note != nil:
		m.Type, m.Notification = shared.NotifyNotification, ch.Note
	case ch.ReadIDs != nil:
		m.Type, m.IDs = shared.NotifyRead, ch.ReadIDs
	default:
		m.Type, m.All, m.Seq = shared.NotifyRead, true, ch.ReadUpTo
	}
	data, err := shared.EncodeNotify(m)
	if err != nil {
		panic("encode a notification message: " + err.Error()) // only plain types and checked JSON
	}
	if err := n.delivery.Publish(context.Background(), Key(ch.User), broker.Event{Seq: ch.Version, Data: data}); err != nil {
		n.log.Error("cannot publish a notification change", "user", ch.User, "err", err)
	}
}

// Key is a user's key in the broker: every process of a deployment
// publishes and subscribes to a user's changes under it.
func Key(user string) string { return "notify:" + user }

// notificationPrefix starts every encoded [shared.NotifyNotification]
// message: encoding/json writes the fields of shared.NotifyMessage in
// order, and Type is the first. It tells a connection which events it
// delivers are notifications, for the delivered count, without decoding
// them.
var notificationPrefix = []byte(`{"type":"` + shared.NotifyNotification + `"`)

// prepareNotify encodes m once for any number of connections.
func prepareNotify(m shared.NotifyMessage) ([]byte, *wsconn.Frame) {
	b, err := shared.EncodeNotify(m)
	if err != nil {
		panic("encode a notification message: " + err.Error()) // only plain types and checked JSON
	}
	return b, wsconn.TextFrame(b)
}

// newID returns a random 128-bit identifier, 26 base32 characters.
func newID() string { return rand.Text() }
