package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"wsplay/server/broker"
	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"

	"github.com/gorilla/websocket"
)

// ServeHTTP handles GET /ws/notifications?user_id=ID[&since=SEQ], wherever
// it is mounted; the package doc of shared ("Notifications") is the
// protocol.
func (n *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The user_id query parameter, as in the tutorial, unless a token
	// says who it is.
	var (
		since  uint64
		resume bool
	)
	c, user := n.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointNotifications, NameParam: "user_id", Batch: true,
		Check: func(r *http.Request, _ string) (func(), *gate.Refusal) {
			if v := r.URL.Query().Get("since"); v != "" {
				var err error
				if since, err = strconv.ParseUint(v, 10, 64); err != nil {
					return nil, gate.Refuse(http.StatusBadRequest, ReasonBadSince, "bad since: want the seq of the last notification seen, a whole number")
				}
				resume = true
			}
			// The store stays open until this connection is done with it.
			if !n.begin() {
				return nil, gate.Refuse(http.StatusServiceUnavailable, gate.ReasonShuttingDown, "the server is shutting down")
			}
			return n.end, nil
		},
	})
	if c == nil {
		return
	}
	n.serve(c, user, since, resume, gate.Authenticated(r))
}

// serve subscribes an admitted connection of user, starts sending it
// what it asked for, and starts it; what it took is given back when the
// connection ends. It returns at once: the handler then returns too (see
// package wsconn).
func (n *Service) serve(c *wsconn.Conn, user string, since uint64, resume, pinned bool) {
	c.LogWith(func() []any { return []any{"user", user} })
	nc := &notifyConn{
		c: c, log: c.Log(), user: user, metrics: n.metrics, syncing: true, maxPending: n.cfg.SendQueue,
		pinned: pinned,
	}
	n.connected(user)
	unsubscribe, err := n.delivery.Subscribe(Key(user), nc.deliver) // before the snapshot
	if err != nil {
		c.Log().Error("cannot subscribe to the user's notifications", "err", err)
		c.Close(websocket.CloseInternalServerErr, shared.ReasonNotifyFailed)
		unsubscribe = func() {}
	}
	followed := err == nil
	if followed {
		if err := n.follow(user); err != nil { // before the snapshot too
			c.Log().Error("cannot follow the user's notifications", "err", err)
			c.Close(websocket.CloseInternalServerErr, shared.ReasonNotifyFailed)
			followed = false
		}
	}
	n.metrics.UserConnected(user)
	var wg sync.WaitGroup
	wg.Go(func() { n.sync(nc, since, resume) })

	var strikes wsconn.Strikes
	limiter := wsconn.NewLimiter(n.cfg.MessageRate, n.cfg.MessageBurst)
	c.Start(func(typ int, data []byte) error {
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
		case !errors.As(n.handle(nc, data), &perr):
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
	}, func() {
		wg.Wait() // the sync ends once c is closed
		n.metrics.UserDisconnected(user)
		if followed {
			n.unfollow(user)
		}
		unsubscribe()
		n.disconnected(user)
		n.end()
	})
}

// tabConn is what a notification connection needs of its socket: a
// *wsconn.Conn is one; unit tests use a wsconntest.Conn.
type tabConn interface {
	Enqueue(f *wsconn.Frame) bool
	EnqueueWait(f *wsconn.Frame) bool
	Reply(f *wsconn.Frame) bool
	Close(code int, reason string)
	InjectFault(content string, ack func()) *shared.Error
	NoPong() bool
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
	pinned     bool // the identity came from a token: the store keeps the user

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
func prepareEvent(ev broker.Event) *wsconn.Frame { return wsconn.TextFrame(ev.Data) }

// isNotification reports whether ev carries a new notification (rather
// than a change of read state).
func isNotification(ev broker.Event) bool { return bytes.HasPrefix(ev.Data, notificationPrefix) }

// sync sends nc its snapshot, then the changes that arrived meanwhile,
// then switches it to live delivery. It runs on its own goroutine because
// it may wait for room in the client's queue (the snapshot can be longer
// than the queue); it returns early once the client is closed.
func (n *Service) sync(nc *notifyConn, since uint64, resume bool) {
	snap, err := n.store.NotifySnapshot(context.Background(), nc.user, since, resume, n.limits(), nc.pinned)
	if err != nil {
		nc.log.Error("cannot read the user's notifications", "err", err)
		nc.c.Close(websocket.CloseInternalServerErr, shared.ReasonNotifyFailed)
		return
	}
	if !snap.Known {
		nc.log.Warn("the notification store is full: this user gets live notifications but no broadcasts",
			"max_users", n.cfg.MaxUsers)
	}
	unread := len(snap.UnreadIDs)
	for i := range snap.Notes {
		_, pm := prepareNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &snap.Notes[i], Unread: unread})
		if !nc.c.EnqueueWait(pm) {
			return
		}
		n.metrics.NotificationDelivered()
	}
	for _, page := range syncedPages(shared.NotifyMessage{Type: shared.NotifySynced, Seq: snap.LastSeq, Unread: unread, IDs: snap.UnreadIDs}) {
		_, pm := prepareNotify(page)
		if !nc.c.EnqueueWait(pm) {
			return
		}
	}
	nc.goLive(snap.Version)
}

// syncedPages cuts a synced message into messages of at most
// shared.MaxFrame bytes each, with the same Seq and Unread and the
// unread ids in order, every one but the last marked More.
func syncedPages(m shared.NotifyMessage) []shared.NotifyMessage {
	page := m
	page.IDs, page.More = nil, true
	base, _ := shared.EncodeNotify(page)
	runs := shared.Pages(m.IDs, shared.MaxFrame-len(base)-len(`,"ids":`))
	out := make([]shared.NotifyMessage, len(runs))
	for i, run := range runs {
		out[i] = m
		out[i].IDs, out[i].More = run, i < len(runs)-1
	}
	return out
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
func (n *Service) handle(nc *notifyConn, data []byte) error {
	m, err := shared.DecodeNotify(data)
	if err != nil {
		// A fault request is not a message of the notification
		// protocol proper: its decoder does not know the type.
		var perr *shared.Error
		if errors.As(err, &perr) && perr.Code == shared.CodeUnknownType {
			if content, ok := shared.ParseFault(data); ok {
				return n.injectFault(nc, content)
			}
		}
		return err
	}
	switch m.Type {
	case shared.NotifyMarkRead:
		return n.handleMarkRead(nc, m)
	case shared.NotifyPoke:
		return n.handlePoke(nc, m)
	case shared.NotifyPing:
		// The heartbeat: counted against the message rate, like any
		// message, and answered at once.
		if err := shared.CheckPingID(m.ID); err != nil {
			return err
		}
		if nc.c.NoPong() {
			return nil // a fault: this connection's pings go unanswered
		}
		nc.c.Enqueue(wsconn.TextFrame(shared.EncodePong(m.ID)))
		return nil
	}
	return shared.Errorf(shared.CodeUnknownType, "clients send only mark_read, poke and ping messages, not %q", m.Type)
}

// injectFault applies the fault a client asked of its own connection
// (shared.TypeFault), after acknowledging it, or returns why it cannot:
// as on chat (wsconn.Conn.InjectFault).
func (n *Service) injectFault(nc *notifyConn, content string) error {
	if !n.cfg.Faults {
		return wsconn.FaultsOff()
	}
	ack := func() { nc.c.Reply(wsconn.TextFrame(shared.EncodeFault(content))) }
	if err := nc.c.InjectFault(content, ack); err != nil {
		return err
	}
	n.metrics.FaultInjected()
	return nil
}

func (n *Service) handleMarkRead(nc *notifyConn, m shared.NotifyMessage) error {
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
		return shared.Errorf(shared.CodeForbidden, "%v", ErrNotYours)
	}
	err := n.markRead(ctx, nc.user, m.ID)
	if errors.Is(err, ErrNotYours) {
		return shared.Errorf(shared.CodeForbidden, "%v", ErrNotYours)
	}
	return n.internal(nc, err)
}

func (n *Service) handlePoke(nc *notifyConn, m shared.NotifyMessage) error {
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
	// The sender's limit first: a sender over it takes nothing from the
	// recipient's.
	now := time.Now()
	if wait := n.pokesSent.Wait(nc.user, now); wait > 0 {
		return shared.Errorf(shared.CodeRateLimited, "pokes are limited to %d in a row, then one per %v; try again in %v",
			n.cfg.PokeBurst, n.cfg.PokeInterval, wait.Round(10*time.Millisecond))
	}
	if wait := n.pokesReceived.Wait(m.To, now); wait > 0 {
		return shared.Errorf(shared.CodeRateLimited, "%s is poked too often just now; try again in %v", m.To, wait.Round(10*time.Millisecond))
	}
	poke := shared.Notification{
		ID: newID(), UserID: m.To, Type: shared.PokeType, Title: title, Message: message,
		From: nc.user,
	}
	if err := checkNotifyFrame(poke); err != nil {
		return err
	}
	// Only a user the store knows can be poked: names made up on the spot
	// must not grow the store.
	stored, err := n.add(context.Background(), true, poke)
	switch {
	case errors.Is(err, ErrUnknownUser):
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

// checkNotifyFrame checks that note, sent to any user with any seq,
// fits shared.MaxNotifyFrame encoded, so that every message carrying it
// fits a frame.
func checkNotifyFrame(note shared.Notification) *shared.Error {
	note.UserID = strings.Repeat("u", shared.MaxNameLen) // a broadcast's "*" stands for any
	note.Seq = math.MaxUint64
	if note.From != "" {
		note.From = strings.Repeat("u", shared.MaxNameLen)
	}
	if note.ID == "" {
		note.ID = newID()
	}
	if note.Timestamp.IsZero() {
		note.Timestamp = time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC)
	}
	b, err := json.Marshal(note)
	if err != nil {
		return shared.Errorf(shared.CodeBadJSON, "the notification cannot be encoded: %v", err)
	}
	if len(b) > shared.MaxNotifyFrame {
		return shared.Errorf(shared.CodeTooLarge, "the notification is %d bytes as sent (JSON escapes count in full); the limit is %d, so that it fits a frame", len(b), shared.MaxNotifyFrame)
	}
	return nil
}

// internal logs a store failure and turns it into the error the client
// sees; nil stays nil.
func (n *Service) internal(nc *notifyConn, err error) error {
	if err == nil {
		return nil
	}
	nc.log.Error("notification store failed", "err", err)
	return shared.Errorf(shared.CodeInternal, "the change could not be stored; try again")
}
