package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"wsplay/server/broker"
	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// notifications is the notification service: it stores notifications
// (notifystore.go), publishes each stored change to the user's connections
// through a broker (broker.go), and serves /ws/notifications
// here and the HTTP API in notifyapi.go.
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
type notifications struct {
	cfg      *Config
	log      *slog.Logger
	store    *store
	delivery broker.Broker // carries each user's changes under notifyKey
	// metrics counts what the service does; newServer wires the server's
	// metrics here. Default (nil): counts nothing.
	metrics *metrics.Metrics

	mu sync.Mutex // serialises store-then-publish; see the type's doc

	gateMu sync.Mutex // guards closed
	closed bool
	active sync.WaitGroup // requests and connections using the store
}

func newNotifications(cfg *Config, log *slog.Logger, st *store) *notifications {
	return &notifications{cfg: cfg, log: log, store: st, delivery: broker.NewMemory()}
}

// begin admits a request or connection that will use the store; it
// reports false once shutdown has begun. Each true must be matched by end.
func (n *notifications) begin() bool {
	n.gateMu.Lock()
	defer n.gateMu.Unlock()
	if n.closed {
		return false
	}
	n.active.Add(1)
	return true
}

func (n *notifications) end() { n.active.Done() }

// shutdown refuses new work and waits for what was admitted: a POST that
// began is stored and answered before the store closes. Call it after the
// connections are closed; calling it again is harmless.
func (n *notifications) shutdown(ctx context.Context) error {
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
// does not know is refused with errUnknownUser. A new user's notification
// may be refused with errNotifyFull.
func (n *notifications) add(ctx context.Context, knownOnly bool, ns ...shared.Notification) ([]shared.Notification, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now().UTC()
	for i := range ns {
		ns[i].Timestamp = now
	}
	changes, err := n.store.addNotifications(ctx, ns, n.limits(), knownOnly)
	if err != nil {
		return nil, err
	}
	out := make([]shared.Notification, len(changes))
	for i, ch := range changes {
		n.metrics.NotificationStored()
		n.publish(ch)
		out[i] = *ch.note
	}
	return out, nil
}

// broadcast stores tmpl for every known user and publishes it; it returns
// how many users it reached.
func (n *notifications) broadcast(ctx context.Context, tmpl shared.Notification) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	tmpl.Timestamp = time.Now().UTC()
	changes, err := n.store.broadcastNotification(ctx, tmpl, n.cfg.NotifyRetention)
	if err != nil {
		return 0, err
	}
	for _, ch := range changes {
		n.metrics.NotificationStored()
		n.publish(ch)
	}
	return len(changes), nil
}

func (n *notifications) limits() notifyLimits {
	return notifyLimits{keep: n.cfg.NotifyRetention, maxUsers: n.cfg.NotifyMaxUsers}
}

// markRead marks one of user's notifications read and tells all of the
// user's connections. It returns errNotYours for anyone else's id.
func (n *notifications) markRead(ctx context.Context, user, id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, changed, err := n.store.markRead(ctx, user, id)
	if err == nil && changed {
		n.publish(ch)
	}
	return err
}

// markAllRead marks user's notifications up to seq (0: all) read and
// tells all of the user's connections.
func (n *notifications) markAllRead(ctx context.Context, user string, upTo uint64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, changed, err := n.store.markAllRead(ctx, user, upTo)
	if err == nil && changed {
		n.publish(ch)
	}
	return err
}

// publish encodes a stored change once and hands it to the broker under
// the user's key, numbered by its version: every connection of the user,
// in this process or another, drops an event whose version it already
// has, so a transport that delivers twice does no harm, and the store
// remains the source of truth for a reconnect. Called with mu held, so a
// user's changes are published one at a time, in version order.
func (n *notifications) publish(ch notifyChange) {
	m := shared.NotifyMessage{Unread: ch.unread}
	switch {
	case ch.note != nil:
		m.Type, m.Notification = shared.NotifyNotification, ch.note
	case ch.readIDs != nil:
		m.Type, m.IDs = shared.NotifyRead, ch.readIDs
	default:
		m.Type, m.All, m.Seq = shared.NotifyRead, true, ch.readUpTo
	}
	data, err := shared.EncodeNotify(m)
	if err != nil {
		panic("encode a notification message: " + err.Error()) // only plain types and checked JSON
	}
	if err := n.delivery.Publish(context.Background(), notifyKey(ch.user), broker.Event{Seq: ch.version, Data: data}); err != nil {
		n.log.Error("cannot publish a notification change", "user", ch.user, "err", err)
	}
}

// notifyKey is a user's key in the broker.
func notifyKey(user string) string { return "notify:" + user }

// notificationPrefix starts every encoded [shared.NotifyNotification]
// message: encoding/json writes the fields of shared.NotifyMessage in
// order, and Type is the first. It tells a connection which events it
// delivers are notifications, for the delivered count, without decoding
// them.
var notificationPrefix = []byte(`{"type":"` + shared.NotifyNotification + `"`)

// prepareNotify encodes m once for any number of connections.
func prepareNotify(m shared.NotifyMessage) ([]byte, *websocket.PreparedMessage) {
	b, err := shared.EncodeNotify(m)
	if err != nil {
		panic("encode a notification message: " + err.Error()) // only plain types and checked JSON
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		panic("prepare a message: " + err.Error()) // only for a bad frame type
	}
	return b, pm
}

// serveNotifications handles GET /ws/notifications?user_id=ID[&since=SEQ];
// the package doc of shared ("Notifications") is the protocol.
func (s *server) serveNotifications(w http.ResponseWriter, r *http.Request) {
	// The user_id query parameter, as in the tutorial, unless a token
	// says who it is.
	var (
		since  uint64
		resume bool
	)
	c, user := s.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointNotifications, NameParam: "user_id",
		Check: func(r *http.Request, _ string) (func(), *gate.Refusal) {
			if v := r.URL.Query().Get("since"); v != "" {
				var err error
				if since, err = strconv.ParseUint(v, 10, 64); err != nil {
					return nil, gate.Refuse(http.StatusBadRequest, "bad since", "bad since: want the seq of the last notification seen, a whole number")
				}
				resume = true
			}
			// The store stays open until this connection is done with it.
			if !s.notify.begin() {
				return nil, gate.Refuse(http.StatusServiceUnavailable, gate.ReasonShuttingDown, "the server is shutting down")
			}
			return s.notify.end, nil
		},
	})
	if c == nil {
		return
	}
	defer s.notify.end()
	c.LogWith("user", user)
	nc := &notifyConn{
		c: c, log: c.Log(), user: user, metrics: s.notify.metrics, syncing: true, maxPending: s.cfg.SendQueue,
		pokes: rate.NewLimiter(rate.Every(s.cfg.PokeInterval), s.cfg.PokeBurst),
	}
	unsubscribe, err := s.notify.delivery.Subscribe(notifyKey(user), nc.deliver) // before the snapshot
	if err != nil {
		c.Log().Error("cannot subscribe to the user's notifications", "err", err)
		c.Close(websocket.CloseInternalServerErr, shared.ReasonNotifyFailed)
		unsubscribe = func() {}
	}
	defer unsubscribe()
	s.notify.metrics.UserConnected(user)
	defer s.notify.metrics.UserDisconnected(user)
	var wg sync.WaitGroup
	defer wg.Wait() // the sync ends once c is closed
	wg.Go(func() { s.notify.sync(nc, since, resume) })

	var strikes wsconn.Strikes
	limiter := wsconn.NewLimiter(s.cfg.MessageRate, s.cfg.MessageBurst)
	c.Run(func(typ int, data []byte) error {
		warn := func(e *shared.Error) {
			_, pm := prepareNotify(e.NotifyMessage())
			c.Enqueue(pm)
		}
		if ok, err := limiter.Admit(c, warn); !ok {
			return err
		}
		if typ != websocket.TextMessage {
			c.Log().Info("closing: binary frame on a text endpoint")
			c.Close(websocket.CloseUnsupportedData, shared.ReasonBinary)
			return wsconn.ErrClosedByServer
		}
		var perr *shared.Error
		switch {
		case !errors.As(s.notify.handle(nc, data), &perr):
			strikes.Good()
			return nil
		case perr.Code == shared.CodeInternal: // the server's fault, not the client's
			c.Log().Info("store failed", "detail", perr.Detail)
		default:
			if err := strikes.Bad(c, perr); err != nil {
				return err
			}
		}
		warn(perr)
		return nil
	})
}

// tabConn is what a notification connection needs of its socket: a
// *wsconn.Conn is one; unit tests use a wsconntest.Conn.
type tabConn interface {
	Enqueue(m *websocket.PreparedMessage) bool
	EnqueueWait(m *websocket.PreparedMessage) bool
	Close(code int, reason string)
}

// notifyConn is one connection of /ws/notifications as a subscriber of its
// user's changes. Until its snapshot is sent (syncing), changes wait in
// pending; then they go straight to the client's queue.
type notifyConn struct {
	c          tabConn
	log        *slog.Logger
	user       string
	metrics    *metrics.Metrics
	maxPending int
	pokes      *rate.Limiter // read by the connection's reader only

	mu      sync.Mutex // guards the fields below; held only while queueing without waiting
	syncing bool
	pending []broker.Event
	version uint64 // the newest change this connection has, sent or in its snapshot
}

// deliver takes a change from the broker. It never blocks: a connection
// whose changes pile up is closed with 1008, and resumes with since=.
func (nc *notifyConn) deliver(ev broker.Event) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if !nc.syncing {
		nc.send(ev)
		return
	}
	if len(nc.pending) >= nc.maxPending {
		nc.c.Close(websocket.ClosePolicyViolation, shared.ReasonTooSlow)
		return
	}
	nc.pending = append(nc.pending, ev)
}

// send queues ev unless the connection has it already. Called with mu held.
func (nc *notifyConn) send(ev broker.Event) {
	if ev.Seq <= nc.version {
		return
	}
	nc.version = ev.Seq
	if nc.c.Enqueue(prepareEvent(ev)) && isNotification(ev) {
		nc.metrics.NotificationDelivered()
	}
}

// prepareEvent prepares an event's data for this connection's queue.
func prepareEvent(ev broker.Event) *websocket.PreparedMessage {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, ev.Data)
	if err != nil {
		panic("prepare a message: " + err.Error()) // only for a bad frame type
	}
	return pm
}

// isNotification reports whether ev carries a new notification (rather
// than a change of read state).
func isNotification(ev broker.Event) bool { return bytes.HasPrefix(ev.Data, notificationPrefix) }

// sync sends nc its snapshot, then the changes that arrived meanwhile,
// then switches it to live delivery. It runs on its own goroutine because
// it may wait for room in the client's queue (the snapshot can be longer
// than the queue); it returns early once the client is closed.
func (n *notifications) sync(nc *notifyConn, since uint64, resume bool) {
	snap, err := n.store.notifySnapshot(context.Background(), nc.user, since, resume, n.cfg.NotifyMaxUsers)
	if err != nil {
		nc.log.Error("cannot read the user's notifications", "err", err)
		nc.c.Close(websocket.CloseInternalServerErr, shared.ReasonNotifyFailed)
		return
	}
	if !snap.known {
		nc.log.Warn("the notification store is full: this user gets live notifications but no broadcasts",
			"max_users", n.cfg.NotifyMaxUsers)
	}
	unread := len(snap.unreadIDs)
	for i := range snap.notes {
		_, pm := prepareNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &snap.notes[i], Unread: unread})
		if !nc.c.EnqueueWait(pm) {
			return
		}
		n.metrics.NotificationDelivered()
	}
	_, pm := prepareNotify(shared.NotifyMessage{Type: shared.NotifySynced, Seq: snap.lastSeq, Unread: unread, IDs: snap.unreadIDs})
	if !nc.c.EnqueueWait(pm) {
		return
	}
	nc.goLive(snap.version)
}

// goLive sends nc the changes that arrived while its snapshot (which holds
// every change up to version) was being sent, dropping those the snapshot
// has, then switches it to live delivery. It sends in batches without
// holding mu while it waits for queue room; live delivery starts only once
// nothing is pending, so the order is kept. It returns early once the
// client is closed.
func (nc *notifyConn) goLive(version uint64) {
	nc.mu.Lock()
	nc.version = version
	nc.mu.Unlock()
	for {
		nc.mu.Lock()
		batch := nc.pending
		nc.pending = nil
		if len(batch) == 0 {
			nc.syncing = false
			nc.mu.Unlock()
			return
		}
		var send []broker.Event
		for _, ev := range batch {
			if ev.Seq > nc.version {
				nc.version = ev.Seq
				send = append(send, ev)
			}
		}
		nc.mu.Unlock()
		for _, ev := range send {
			if !nc.c.EnqueueWait(prepareEvent(ev)) {
				return
			}
			if isNotification(ev) {
				nc.metrics.NotificationDelivered()
			}
		}
	}
}

// handle serves one message from a client. It returns an *shared.Error
// for input the client must be told about.
func (n *notifications) handle(nc *notifyConn, data []byte) error {
	m, err := shared.DecodeNotify(data)
	if err != nil {
		return err
	}
	switch m.Type {
	case shared.NotifyMarkRead:
		return n.handleMarkRead(nc, m)
	case shared.NotifyPoke:
		return n.handlePoke(nc, m)
	}
	return shared.Errorf(shared.CodeUnknownType, "clients send only mark_read and poke messages, not %q", m.Type)
}

func (n *notifications) handleMarkRead(nc *notifyConn, m shared.NotifyMessage) error {
	ctx := context.Background()
	switch {
	case m.All && m.ID != "":
		return shared.Errorf(shared.CodeBadRequest, "mark_read takes an id or all, not both")
	case m.All:
		err := n.markAllRead(ctx, nc.user, m.Seq)
		return n.internal(nc, err)
	case m.ID == "":
		return shared.Errorf(shared.CodeBadRequest, "mark_read needs the id of a notification, or all")
	}
	if shared.ValidateClientID(m.ID) != nil {
		return shared.Errorf(shared.CodeForbidden, "%v", errNotYours)
	}
	err := n.markRead(ctx, nc.user, m.ID)
	if errors.Is(err, errNotYours) {
		return shared.Errorf(shared.CodeForbidden, "%v", errNotYours)
	}
	return n.internal(nc, err)
}

func (n *notifications) handlePoke(nc *notifyConn, m shared.NotifyMessage) error {
	if err := shared.ValidateName("user id", m.To); err != nil {
		return shared.Errorf(shared.CodeBadRequest, "poke: %v", err)
	}
	title, message := strings.TrimSpace(m.Title), strings.TrimSpace(m.Message)
	if err := checkNotifyText(title, message); err != nil {
		return err
	}
	if title == "" {
		title = "Poke from " + nc.user
	}
	if r := nc.pokes.Reserve(); r.Delay() > 0 {
		wait := r.Delay()
		r.Cancel()
		return shared.Errorf(shared.CodeRateLimited, "pokes are limited to %d in a row, then one per %v; try again in %v",
			nc.pokes.Burst(), n.cfg.PokeInterval, wait.Round(10*time.Millisecond))
	}
	// Only a user the store knows can be poked: names made up on the spot
	// must not grow the store.
	stored, err := n.add(context.Background(), true, shared.Notification{
		ID: newID(), UserID: m.To, Type: shared.PokeType, Title: title, Message: message,
		From: nc.user,
	})
	switch {
	case errors.Is(err, errUnknownUser):
		return shared.Errorf(shared.CodeNotFound, "poke: %q has never connected to notifications", m.To)
	case err != nil:
		return n.internal(nc, err)
	}
	_, pm := prepareNotify(shared.NotifyMessage{Type: shared.NotifyPoked, To: m.To, ID: stored[0].ID})
	nc.c.Enqueue(pm)
	return nil
}

// checkNotifyText checks a notification's title and message against the
// limits every sender shares.
func checkNotifyText(title, message string) *shared.Error {
	if len(title) > shared.MaxNotifyTitle {
		return shared.Errorf(shared.CodeTooLarge, "title is %d bytes; the limit is %d", len(title), shared.MaxNotifyTitle)
	}
	if len(message) > shared.MaxNotifyMessage {
		return shared.Errorf(shared.CodeTooLarge, "message is %d bytes; the limit is %d", len(message), shared.MaxNotifyMessage)
	}
	return nil
}

// internal logs a store failure and turns it into the error the client
// sees; nil stays nil.
func (n *notifications) internal(nc *notifyConn, err error) error {
	if err == nil {
		return nil
	}
	nc.log.Error("notification store failed", "err", err)
	return shared.Errorf(shared.CodeInternal, "the change could not be stored; try again")
}
