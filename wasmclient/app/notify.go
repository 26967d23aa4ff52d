package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
)

// NotifyView shows one user's notification centre. Its methods are called
// on the loop.
type NotifyView interface {
	// NotifyState shows the connection state; detail says more, such as
	// when the next reconnection attempt is.
	NotifyState(state ConnState, detail string)
	// Notify adds a notification to the list. live is false for those the
	// server had stored (sent on connect) and true for new ones, which
	// deserve a toast. n.Read says whether it is read already (a resume
	// replays read ones too). Each notification is shown once, however
	// often the client reconnects. Its title, message and data are
	// untrusted: put them in the page as text.
	Notify(n shared.Notification, live bool)
	// Unread shows the number of unread notifications: the badge.
	Unread(count int)
	// MarkedRead marks notifications shown earlier as read: by this
	// client, by another tab of the same user, or while this one was
	// away.
	MarkedRead(ids []string)
	// Poked says that a poke to user to was delivered to the server.
	Poked(to string)
	// NotifyError shows a problem with the user's input or the server's
	// answer; "" clears it.
	NotifyError(msg string)
}

// notifyKept bounds the notifications a client remembers (to recognise
// them again and to mark them read), like the server's default retention.
const notifyKept = 500

// notifySendQueue bounds the frames waiting for the writer: marks and
// pokes, which the user makes one click at a time.
const notifySendQueue = 64

// Notifications is the client of /ws/notifications for one user: one tab
// of the notification centre. It keeps the unread count, reconnects by
// itself with jittered backoff, and resumes with since= so that it
// receives what it missed, and learns what other tabs marked read
// meanwhile.
//
// It never guesses: the unread count and the read marks change only when
// the server says so, and the server tells every tab of the user at once.
//
// Its methods must be called on the loop.
type Notifications struct {
	loop    *Loop
	view    NotifyView
	baseURL string // ws://host/ws/notifications
	User    string
	// DialTimeout bounds one connection attempt. Default 10 s.
	DialTimeout time.Duration
	Backoff     Backoff
	// Tokens, when set, logs the user in and sends a token with each
	// connection; the server then takes the identity from the token.
	Tokens *Tokens

	state   ConnState
	gen     int // counts connections; events of an older one are ignored
	conn    *websocket.Conn
	out     chan []byte
	stopped bool
	retry   *time.Timer

	synced  bool   // the current connection's backlog is complete
	resume  bool   // a backlog was complete once: reconnects send since=
	lastSeq uint64 // the newest seq the server has sent everything up to
	unread  int
	known   map[string]knownNote // id → what the view was shown
}

type knownNote struct {
	seq  uint64
	read bool
}

// NewNotifications returns a client for user on the notification endpoint
// at socketURL (ws://host/ws/notifications). It checks the user id first,
// as the server would. Call Start to connect.
func NewNotifications(loop *Loop, view NotifyView, socketURL, user string) (*Notifications, error) {
	if err := shared.ValidateName("user id", user); err != nil {
		return nil, err
	}
	return &Notifications{
		loop: loop, view: view, baseURL: socketURL, User: user,
		DialTimeout: dialTimeout, known: map[string]knownNote{},
	}, nil
}

// State returns the connection state.
func (n *Notifications) State() ConnState { return n.state }

// View returns the view the client shows itself in.
func (n *Notifications) View() NotifyView { return n.view }

// UnreadCount returns the unread count the server last reported.
func (n *Notifications) UnreadCount() int { return n.unread }

// LastSeq returns the seq a reconnect resumes after.
func (n *Notifications) LastSeq() uint64 { return n.lastSeq }

// Start connects.
func (n *Notifications) Start() { n.connect() }

// Stop closes the connection for good.
func (n *Notifications) Stop() {
	n.stopped = true
	if n.retry != nil {
		n.retry.Stop()
	}
	n.gen++ // whatever is in flight is now stale
	if n.conn != nil {
		conn := n.conn
		close(n.out)
		go conn.Close(websocket.StatusNormalClosure, "client removed")
	}
	n.conn, n.out = nil, nil
	n.setState(Disconnected, "stopped")
}

// ReconnectNow skips the rest of the wait before a reconnection attempt.
func (n *Notifications) ReconnectNow() {
	if n.stopped || n.state != Disconnected {
		return
	}
	if n.retry != nil {
		n.retry.Stop()
	}
	n.connect()
}

// MarkRead asks the server to mark one notification read.
func (n *Notifications) MarkRead(id string) error {
	if id == "" {
		return errors.New("no notification given")
	}
	return n.write(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: id})
}

// MarkAllRead asks the server to mark read every notification this client
// has been sent; one that is on its way stays unread.
func (n *Notifications) MarkAllRead() error {
	return n.write(shared.NotifyMessage{Type: shared.NotifyMarkRead, All: true, Seq: n.lastSeq})
}

// Poke sends user to a notification from this client's user. The server
// sets the sender and limits how often a connection may poke.
func (n *Notifications) Poke(to, title, message string) error {
	title, message = strings.TrimSpace(title), strings.TrimSpace(message)
	switch {
	case shared.ValidateName("user id", to) != nil:
		return fmt.Errorf("poke: %w", shared.ValidateName("user id", to))
	case len(title) > shared.MaxNotifyTitle:
		return fmt.Errorf("poke: the title is limited to %d bytes", shared.MaxNotifyTitle)
	case len(message) > shared.MaxNotifyMessage:
		return fmt.Errorf("poke: the message is limited to %d bytes", shared.MaxNotifyMessage)
	}
	return n.write(shared.NotifyMessage{Type: shared.NotifyPoke, To: to, Title: title, Message: message})
}

// url returns the address to dial: a resume once a backlog was complete.
func (n *Notifications) url() string {
	q := url.Values{"user_id": {n.User}}
	if n.resume {
		q.Set("since", strconv.FormatUint(n.lastSeq, 10))
	}
	return n.baseURL + "?" + q.Encode()
}

func (n *Notifications) connect() {
	if n.stopped || n.state == Connecting || n.state == Connected {
		return
	}
	n.gen++
	gen, u, timeout, tokens := n.gen, n.url(), n.DialTimeout, n.Tokens
	n.setState(Connecting, "")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := dial(ctx, tokens, u)
		n.loop.Post(func() { n.dialed(gen, conn, err) })
	}()
}

func (n *Notifications) dialed(gen int, conn *websocket.Conn, err error) {
	if gen != n.gen || n.stopped {
		if conn != nil {
			conn.CloseNow()
		}
		return
	}
	if err != nil {
		n.scheduleReconnect("cannot connect: " + err.Error())
		return
	}
	conn.SetReadLimit(clientReadLimit)
	n.conn, n.out, n.synced = conn, make(chan []byte, notifySendQueue), false
	n.setState(Connected, "loading notifications")
	go n.readLoop(gen, conn)
	go writeLoop(conn, n.out)
}

func (n *Notifications) readLoop(gen int, conn *websocket.Conn) {
	for {
		typ, data, err := conn.Read(context.Background())
		if err != nil {
			err = readCloseError(conn, err)
			n.loop.Post(func() { n.ended(gen, err) })
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		m, err := shared.DecodeNotify(data)
		n.loop.Post(func() {
			if gen != n.gen {
				return
			}
			if err != nil {
				n.view.NotifyError("the server sent something this client cannot read: " + err.Error())
				return
			}
			n.handle(m)
		})
	}
}

// write queues m for the connection.
func (n *Notifications) write(m shared.NotifyMessage) error {
	if n.state != Connected {
		return errors.New("not connected; try again once reconnected")
	}
	b, err := shared.EncodeNotify(m)
	if err != nil {
		return err
	}
	select {
	case n.out <- b:
		return nil
	default:
		// The writer is stuck: start over.
		n.conn.CloseNow()
		return errors.New("the connection is stuck; reconnecting")
	}
}

func (n *Notifications) ended(gen int, err error) {
	if gen != n.gen {
		return
	}
	close(n.out)
	n.conn, n.out = nil, nil
	info := closeInfo(err)
	if !info.Reconnect {
		n.setState(Disconnected, fmt.Sprintf("closed: %d %s; not reconnecting", info.Code, info.Meaning))
		return
	}
	n.scheduleReconnect(fmt.Sprintf("connection lost (%d %s)", info.Code, info.Meaning))
}

func (n *Notifications) scheduleReconnect(why string) {
	n.conn, n.out = nil, nil
	wait := n.Backoff.Next()
	n.state = Disconnected // so that connect runs when the timer fires
	n.view.NotifyState(Disconnected, fmt.Sprintf("%s; reconnecting in %v", why, wait.Round(10*time.Millisecond)))
	gen := n.gen
	n.retry = time.AfterFunc(wait, func() {
		n.loop.Post(func() {
			if gen == n.gen {
				n.connect()
			}
		})
	})
}

// handle applies one message from the server.
func (n *Notifications) handle(m shared.NotifyMessage) {
	switch m.Type {
	case shared.NotifyNotification:
		if m.Notification != nil {
			n.notification(*m.Notification)
		}
		n.setUnread(m.Unread)
	case shared.NotifySynced:
		n.syncedWith(m)
	case shared.NotifyRead:
		n.read(m)
	case shared.NotifyPoked:
		n.view.NotifyError("")
		n.view.Poked(m.To)
	case shared.NotifyError:
		n.view.NotifyError(fmt.Sprintf("%s: %s", m.Code, m.Message))
	}
}

func (n *Notifications) notification(note shared.Notification) {
	if n.synced && note.Seq > n.lastSeq {
		n.lastSeq = note.Seq
	}
	if _, ok := n.known[note.ID]; ok {
		return // shown already: a replay after a reconnect
	}
	n.known[note.ID] = knownNote{seq: note.Seq, read: note.Read}
	n.forgetOldest()
	n.view.Notify(note, n.synced)
}

// syncedWith ends the backlog: from now on notifications are live. Every
// notification the client knows that is not in the server's unread list
// was read, here or elsewhere.
func (n *Notifications) syncedWith(m shared.NotifyMessage) {
	unread := make(map[string]bool, len(m.IDs))
	for _, id := range m.IDs {
		unread[id] = true
	}
	var read []string
	for id, k := range n.known {
		if !k.read && !unread[id] {
			k.read = true
			n.known[id] = k
			read = append(read, id)
		}
	}
	n.markedRead(read)
	n.lastSeq, n.synced, n.resume = m.Seq, true, true
	n.Backoff.Reset() // connected for good: the next loss starts from a short wait
	n.setUnread(m.Unread)
	n.setState(Connected, "")
}

func (n *Notifications) read(m shared.NotifyMessage) {
	var read []string
	mark := func(id string) {
		if k, ok := n.known[id]; ok && !k.read {
			k.read = true
			n.known[id] = k
			read = append(read, id)
		}
	}
	if m.All {
		for id, k := range n.known {
			if k.seq <= m.Seq {
				mark(id)
			}
		}
	}
	for _, id := range m.IDs {
		mark(id)
	}
	n.markedRead(read)
	n.setUnread(m.Unread)
}

// markedRead shows ids as read, oldest first.
func (n *Notifications) markedRead(ids []string) {
	if len(ids) == 0 {
		return
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(n.known[a].seq, n.known[b].seq) })
	n.view.MarkedRead(ids)
}

// forgetOldest keeps the memory of notifications bounded.
func (n *Notifications) forgetOldest() {
	for len(n.known) > notifyKept {
		var oldest string
		var seq uint64
		for id, k := range n.known {
			if oldest == "" || k.seq < seq {
				oldest, seq = id, k.seq
			}
		}
		delete(n.known, oldest)
	}
}

func (n *Notifications) setUnread(count int) {
	n.unread = count
	n.view.Unread(count)
}

func (n *Notifications) setState(s ConnState, detail string) {
	n.state = s
	n.view.NotifyState(s, detail)
}
