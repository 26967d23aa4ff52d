package app

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"wsplay/shared"
	"wsplay/shared/wire"
)

// Note is a notification as the notification centre shows it. Live is
// false for those the server had stored (sent on connect) and true for new
// ones. Its title, message and data are untrusted: they go in the page as
// text.
type Note struct {
	shared.Notification
	Live bool
}

// Text is the line after the title: the message, and who sent it.
func (n Note) Text() string {
	if n.From == "" {
		return n.Message
	}
	return n.Message + " — from " + n.From
}

// Class is the list item's class: unread, or none.
func (n Note) Class() string {
	if n.Read {
		return ""
	}
	return "unread"
}

// Toast reports whether the note deserves a toast: it is new and unread.
func (n Note) Toast() bool { return n.Live && !n.Read }

// NotifyStatus is the notification centre's status line in state s, with
// detail after it when there is one.
func NotifyStatus(s ConnState, detail string) string {
	if detail == "" {
		return "notifications: " + s.String()
	}
	return "notifications: " + s.String() + " · " + detail
}

// PokedStatus is the status line once a poke to user to was delivered.
func PokedStatus(to string) string { return "poked " + to }

// NotifyView shows one user's notification centre. Its methods are called
// on the loop.
type NotifyView interface {
	// NotifyState shows the connection state; detail says more, such as
	// when the next reconnection attempt is.
	NotifyState(state ConnState, detail string)
	// Notify adds a notification to the list, and shows a toast when
	// n.Toast says so. n.Read says whether it is read already (a resume
	// replays read ones too). Each notification is shown once, however
	// often the client reconnects.
	Notify(n Note)
	// Unread shows the number of unread notifications: the badge.
	Unread(count int)
	// MarkedRead marks notifications shown earlier as read: by this
	// client, by another tab of the same user, or while this one was
	// away.
	MarkedRead(ids []string)
	// Poked says that a poke to user to was delivered to the server.
	Poked(to string)
	// NotifyError shows a problem with the user's input or the server's
	// answer, until the next state or poke is shown.
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
// The embedded socket keeps the connection; DialTimeout, Backoff and
// Tokens are its fields. Backoff is reset when a backlog is complete. Its
// methods must be called on the loop.
type Notifications struct {
	socket
	view    NotifyView
	baseURL string // ws://host/ws/notifications
	User    string
	stopped bool // Stop was called

	synced  bool   // the current connection's backlog is complete
	resume  bool   // a backlog was complete once: reconnects send since=
	lastSeq uint64 // the newest seq the server has sent everything up to
	// unreadSoFar gathers the unread ids of a synced that comes in
	// pages (shared.NotifySynced), until the last.
	unreadSoFar []string
	unread      int
	known       map[string]knownNote // id → what the view was shown
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
	n := &Notifications{view: view, baseURL: socketURL, User: user, known: map[string]knownNote{}}
	n.socket = newSocket(loop, n, notifySendQueue)
	n.batch = true
	return n, nil
}

// View returns the view the client shows itself in.
func (n *Notifications) View() NotifyView { return n.view }

// UnreadCount returns the unread count the server last reported.
func (n *Notifications) UnreadCount() int { return n.unread }

// LastSeq returns the seq a reconnect resumes after.
func (n *Notifications) LastSeq() uint64 { return n.lastSeq }

// Start connects.
func (n *Notifications) Start() {
	if !n.stopped {
		n.connect()
	}
}

// Stop closes the connection for good.
func (n *Notifications) Stop() {
	n.stopped = true
	n.stop("stopped")
}

// ReconnectNow skips the rest of the wait before a reconnection attempt.
func (n *Notifications) ReconnectNow() { n.Start() }

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
		return errors.New("poke: " + shared.ValidateName("user id", to).Error())
	case len(title) > shared.MaxNotifyTitle:
		return errors.New("poke: the title is limited to " + strconv.Itoa(shared.MaxNotifyTitle) + " bytes")
	case len(message) > shared.MaxNotifyMessage:
		return errors.New("poke: the message is limited to " + strconv.Itoa(shared.MaxNotifyMessage) + " bytes")
	}
	return n.write(shared.NotifyMessage{Type: shared.NotifyPoke, To: to, Title: title, Message: message})
}

// url returns the address to dial: a resume once a backlog was complete.
func (n *Notifications) url() string {
	q := "user_id=" + url.QueryEscape(n.User)
	if n.resume {
		q = "since=" + strconv.FormatUint(n.lastSeq, 10) + "&" + q
	}
	return n.baseURL + "?" + q
}

// opened starts a backlog: until synced, notifications are not live.
func (n *Notifications) opened() string {
	n.synced, n.unreadSoFar = false, nil
	return "loading notifications"
}

func (n *Notifications) message(data []byte) {
	m, err := wire.DecodeNotify(data)
	if err != nil {
		n.view.NotifyError("the server sent something this client cannot read: " + err.Error())
		return
	}
	n.handle(m)
}

func (n *Notifications) ended(CloseInfo, bool) {}

func (n *Notifications) showState(s ConnState, detail string) { n.view.NotifyState(s, detail) }

// write queues m for the connection.
func (n *Notifications) write(m shared.NotifyMessage) error {
	b, err := wire.EncodeNotify(m)
	if err != nil {
		return err
	}
	return n.send(b)
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
		n.view.Poked(m.To)
	case shared.NotifyError:
		n.view.NotifyError(string(m.Code) + ": " + m.Message)
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
	n.view.Notify(Note{note, n.synced})
}

// syncedWith ends the backlog: from now on notifications are live. Every
// notification the client knows that is not in the server's unread list
// was read, here or elsewhere. A synced that comes in pages is gathered
// first: the unread ids are those of every page, and the backlog ends
// with the last.
func (n *Notifications) syncedWith(m shared.NotifyMessage) {
	if m.More {
		n.unreadSoFar = append(n.unreadSoFar, m.IDs...)
		return
	}
	ids := append(n.unreadSoFar, m.IDs...)
	n.unreadSoFar = nil
	unread := make(map[string]bool, len(ids))
	for _, id := range ids {
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
