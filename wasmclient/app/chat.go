package app

import (
	"crypto/rand"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsplay/shared"
	"wsplay/shared/wire"
)

// ChatLine is one line of a chat transcript.
type ChatLine struct {
	// Kind is text, join or leave; KindLive for the line between what a
	// history brought and what came live; "" for the client's own notes.
	Kind     shared.Type
	Username string
	Content  string
	Time     time.Time
	Seq      uint64
	// ID is the message id; for the user's own messages, the id the
	// client chose, so that the server's acknowledgement finds the line.
	ID string
	// Key names the line in its transcript, for ChatShow and ChatDrop.
	Key string
	// Own is set on lines the user wrote.
	Own bool
	// Pending is set on the user's own lines until the server has stored
	// them.
	Pending bool
	// Refused is set on the user's lines the server refused to store
	// (its error, shown with ChatError, says why); they are not sent
	// again.
	Refused bool
	// History is set on lines a history brought: what was said before
	// the client joined, or while it was away. A page shows them and
	// does not announce them.
	History bool
}

// KindLive is the Kind of the line a transcript shows once, after the
// first history: what comes below it came live.
const KindLive shared.Type = "live"

// ChatRow is a ChatLine as a transcript shows it: the item's data-key,
// data-kind and data-seq ("" for none: the line is not a stored message),
// its classes, and the text of its parts. Time is "" for a line without
// one; Who is "" but on messages.
type ChatRow struct {
	Key, Kind, Seq, Class string
	Time, Who, Text       string
}

// Row returns the line as a transcript shows it: a message with its
// author, classed own and pending as it is; a join or leave as an event
// that names who; anything else as a note.
func (l ChatLine) Row() ChatRow {
	r := ChatRow{Key: l.Key, Kind: string(l.Kind), Text: l.Content}
	if !l.Time.IsZero() {
		r.Time = l.Time.Local().Format("15:04:05")
	}
	switch l.Kind {
	case shared.TypeText:
		r.Class, r.Who = "text", l.Username
		if l.Own {
			r.Class += " own"
		}
		switch {
		case l.Refused:
			r.Class += " refused"
		case l.Pending:
			r.Class += " pending"
		default:
			r.Seq = strconv.FormatUint(l.Seq, 10)
		}
	case shared.TypeJoin:
		r.Class, r.Text = "event", l.Username+" joined"
	case shared.TypeLeave:
		r.Class, r.Text = "event", l.Username+" left"
	case KindLive:
		r.Class = "live"
	default:
		r.Class = "note"
	}
	return r
}

// Presence is who is in a room, sorted.
type Presence []string

// Heading is what a card writes before the names.
func (p Presence) Heading() string { return "In the room (" + strconv.Itoa(len(p)) + "): " }

// List is the names joined by commas, for a card's data-users.
func (p Presence) List() string { return strings.Join(p, ",") }

// Typing is who else is typing, sorted.
type Typing []string

// String says who is typing, or "" when no one is.
func (t Typing) String() string {
	switch len(t) {
	case 0:
		return ""
	case 1:
		return t[0] + " is typing…"
	}
	return strings.Join(t, ", ") + " are typing…"
}

// ChatView shows one chat client. Its methods are called on the loop.
type ChatView interface {
	// ChatState shows the connection state; detail says more, such as
	// when the next reconnection attempt is.
	ChatState(state ConnState, detail string)
	// ChatShow shows line just before the line keyed before, or last
	// when before is "". If a line with its Key is shown already (the
	// user's own, once the server has stored it), line replaces it and
	// moves there. The client decides the order; the view follows it.
	ChatShow(line ChatLine, before string)
	// ChatDrop removes the line keyed key: the oldest, when the
	// transcript already holds MaxTranscript lines.
	ChatDrop(key string)
	ChatUsers(users Presence)
	// ChatTyping lists the other users typing now.
	ChatTyping(users Typing)
	// ChatError shows a problem with the user's input or the connection;
	// "" clears it.
	ChatError(msg string)
}

// chatSendQueue bounds the frames waiting for a chat connection's writer.
// A queue that fills means the connection is stuck: it is dropped and the
// client reconnects, sending again what the server has not acknowledged.
const chatSendQueue = 1024

// Chat is one virtual chat client: its own connection, username and room.
// It reconnects by itself with jittered backoff, resumes with since= and
// epoch= so that it receives exactly what it missed, and keeps what the
// user sent until the server acknowledges it, sending it again after a
// reconnect; the server recognises a resend by its id. So nothing the user
// typed or was sent is lost across a server restart.
//
// The embedded socket keeps the connection; DialTimeout, Backoff and
// Tokens are its fields. Backoff is reset when a history arrives. Its
// methods must be called on the loop.
type Chat struct {
	socket
	view    ChatView
	baseURL string // ws://host/ws/chat
	Room    string
	User    string
	now     func() time.Time
	stopped bool // Stop was called

	epoch   string
	lastSeq uint64 // the newest seq seen; 0 before the first history
	joined  bool   // a history has arrived at least once
	paging  bool   // pages of a history are arriving: the last is still to come
	replay  bool   // the messages of a history are being shown
	live    bool   // the KindLive line is shown
	// resuming is set from opening a connection after a history until
	// the next history has come: the inspector shows the resume's steps.
	resuming bool

	idPrefix string
	nextID   int
	outbox   []ChatLine // sent, not yet acknowledged, oldest first
	// While the server cannot store messages (shared.CodeUnavailable),
	// the outbox is sent again after resendWait, doubling up to
	// maxResendWait; resendTimer is that wait, nil when none is set.
	resendTimer *time.Timer
	resendWait  time.Duration
	lines       transcript // what the view shows, in order

	users        []string             // the room's users, sorted
	listSoFar    []string             // the pages of a user list so far, until the last
	typing       map[string]time.Time // other users typing, until when
	typingTimer  *time.Timer
	lastTypingTx time.Time
}

// NewChat returns a client for user in room on the chat endpoint at
// socketURL (ws://host/ws/chat). It checks the names first, as the server
// would. Call Start to connect.
func NewChat(loop *Loop, view ChatView, socketURL, room, user string) (*Chat, error) {
	if err := shared.ValidateName("room name", room); err != nil {
		return nil, err
	}
	if err := shared.ValidateName("username", user); err != nil {
		return nil, err
	}
	c := &Chat{
		view: view, baseURL: socketURL, Room: room, User: user, now: time.Now,
		// Random, so that a user's two tabs never pick the same ids.
		idPrefix: rand.Text()[:10],
		typing:   map[string]time.Time{},
	}
	c.socket = newSocket(loop, c, chatSendQueue)
	c.batch = true
	return c, nil
}

// View returns the view the client shows itself in.
func (c *Chat) View() ChatView { return c.view }

// Pending returns how many sent messages wait for the server's
// acknowledgement.
func (c *Chat) Pending() int { return len(c.outbox) }

// Start connects.
func (c *Chat) Start() {
	if !c.stopped {
		c.connect()
	}
}

// Stop closes the connection for good.
func (c *Chat) Stop() {
	c.stopped = true
	if c.typingTimer != nil {
		c.typingTimer.Stop()
	}
	if c.resendTimer != nil {
		c.resendTimer.Stop()
	}
	c.stop("stopped")
}

// url returns the address to dial: a resume after the first history. The
// query is written in url.Values.Encode's order, without its sorting.
func (c *Chat) url() string {
	room, user := "room="+url.QueryEscape(c.Room), "username="+url.QueryEscape(c.User)
	if c.joined {
		return c.baseURL + "?epoch=" + url.QueryEscape(c.epoch) + "&" + room + "&since=" + strconv.FormatUint(c.lastSeq, 10) + "&" + user
	}
	return c.baseURL + "?" + room + "&" + user
}

// opened sends again what the server has not acknowledged; a resend of a
// message it did store comes back as an acknowledgement only.
func (c *Chat) opened() string {
	// Pages of a history or a list the last connection did not finish
	// are not coming.
	c.paging, c.listSoFar = false, nil
	if c.joined {
		c.resuming = true
		c.Inspect.inspect(Event, "resume", "asking for what came after seq "+strconv.FormatUint(c.lastSeq, 10)+
			"; sending again "+strconv.Itoa(len(c.outbox))+" unacknowledged")
	}
	for _, o := range c.outbox {
		c.write(shared.Message{Type: shared.TypeText, ID: o.ID, Content: o.Content})
	}
	return ""
}

func (c *Chat) message(data []byte) {
	m, err := wire.Decode(data)
	if err != nil {
		c.view.ChatError("the server sent something this client cannot read: " + err.Error())
		return
	}
	c.handle(m)
}

func (c *Chat) ended(info CloseInfo, reconnect bool) {
	if !reconnect {
		c.show(ChatLine{Time: c.now(), Content: "connection closed (" + strconv.Itoa(int(info.Code)) + " " + info.Reason + "); not reconnecting"})
	}
}

func (c *Chat) showState(s ConnState, detail string) { c.view.ChatState(s, detail) }

// write queues m for the connection, if there is one. Without one, or
// with a stuck one (which the socket then drops), nothing is lost: the
// outbox is sent again on the next connection, and typing is not worth
// keeping.
func (c *Chat) write(m shared.Message) {
	b, err := wire.Encode(m)
	if err != nil {
		c.view.ChatError(err.Error())
		return
	}
	_ = c.send(b)
}

// handle applies one message from the server.
func (c *Chat) handle(m shared.Message) {
	switch m.Type {
	case shared.TypeHistory:
		c.history(m)
	case shared.TypeText:
		c.text(m)
	case shared.TypeJoin, shared.TypeLeave:
		// Applied in order, joins and leaves keep the list right, even for
		// users already in the snapshot a join brought.
		who := presenceUsers(m)
		for _, u := range who {
			if m.Type == shared.TypeJoin && !slices.Contains(c.users, u) {
				c.users = append(c.users, u)
			} else if m.Type == shared.TypeLeave {
				c.users = slices.DeleteFunc(c.users, func(x string) bool { return x == u })
			}
		}
		slices.Sort(c.users)
		c.view.ChatUsers(slices.Clone(c.users))
		c.show(ChatLine{Kind: m.Type, Username: strings.Join(who, ", "), Time: m.Timestamp})
	case shared.TypeUserList:
		// The snapshot on joining; join and leave keep it current. A big
		// room's comes in pages, which together are the list.
		c.listSoFar = append(c.listSoFar, m.Users...)
		if m.More {
			return
		}
		c.users = slices.Compact(slices.Sorted(slices.Values(c.listSoFar)))
		c.listSoFar = nil
		c.view.ChatUsers(slices.Clone(c.users))
	case shared.TypeTyping:
		c.typingFrom(m.Username)
	case shared.TypeError:
		c.view.ChatError(string(m.Code) + ": " + m.Content)
		// A line the server refused to store leaves the outbox, and is
		// marked where it is: what was typed stays to be read and copied.
		if i := slices.IndexFunc(c.outbox, func(o ChatLine) bool { return m.ID != "" && o.ID == m.ID }); i >= 0 {
			line := c.outbox[i]
			c.outbox = slices.Delete(c.outbox, i, i+1)
			line.Pending, line.Refused = false, true
			if before, ok := c.lines.stored(line.Key, 0); ok {
				c.view.ChatShow(line, before)
			}
			return
		}
		if m.Code == shared.CodeUnavailable && len(c.outbox) > 0 {
			c.resendLater()
		}
	}
}

// The first and the longest wait before the outbox goes again while the
// server says it cannot store messages.
const (
	firstResendWait = time.Second
	maxResendWait   = 8 * time.Second
)

// resendLater sends the outbox again after a wait: the server could not
// store a message (its shared store is away), and the connection itself
// is fine, so no reconnect would send it. The wait doubles while the
// answers stay the same; an acknowledgement resets it.
func (c *Chat) resendLater() {
	if c.resendTimer != nil {
		return // one is on its way
	}
	c.resendWait = min(max(2*c.resendWait, firstResendWait), maxResendWait)
	c.show(ChatLine{Time: c.now(), Content: "the server cannot store messages just now; sending again in " + c.resendWait.String()})
	c.resendTimer = time.AfterFunc(c.resendWait, func() {
		c.loop.Post(func() {
			c.resendTimer = nil
			if c.stopped {
				return
			}
			for _, o := range c.outbox {
				c.write(shared.Message{Type: shared.TypeText, ID: o.ID, Content: o.Content})
			}
		})
	})
}

// presenceUsers returns who a join or leave message is about.
func presenceUsers(m shared.Message) []string {
	if len(m.Users) > 0 {
		return m.Users
	}
	return []string{m.Username}
}

func (c *Chat) history(m shared.Message) {
	c.Backoff.Reset() // joined: the next loss starts from a short wait
	first := !c.paging
	c.paging = m.More // a long history comes in pages; Seq and Recovered apply after the last
	if first && m.Recovered != nil && !*m.Recovered {
		note := "the server could not replay everything missed while disconnected; showing the latest messages"
		if m.Epoch != c.epoch {
			note = "the room's history started over; showing the latest messages"
		}
		c.show(ChatLine{Time: c.now(), Content: note})
	}
	if first && m.Epoch != c.epoch {
		c.lastSeq = 0 // seqs of another epoch mean nothing here
	}
	c.epoch, c.joined = m.Epoch, true
	c.replay = true
	for _, h := range m.Messages {
		c.text(h)
	}
	c.replay = false
	if m.More {
		return
	}
	if !c.live {
		c.live = true
		c.show(ChatLine{Kind: KindLive, Content: "live"})
	}
	if m.Seq > c.lastSeq && (m.Recovered == nil || !*m.Recovered) {
		c.lastSeq = m.Seq // skipped over a gap the server reported
	}
	if c.resuming {
		c.resuming = false
		c.Inspect.inspect(Event, "resume", "caught up through seq "+strconv.FormatUint(c.lastSeq, 10))
	}
}

func (c *Chat) text(m shared.Message) {
	if m.Seq != 0 && m.Seq <= c.lastSeq {
		return // seen already: a replay or the acknowledgement of a resend
	}
	c.lastSeq = m.Seq
	if _, ok := c.typing[m.Username]; ok {
		delete(c.typing, m.Username) // they sent what they were typing
		c.showTyping()
	}
	if m.Username == c.User {
		if i := slices.IndexFunc(c.outbox, func(o ChatLine) bool { return o.ID == m.ID }); i >= 0 {
			line := c.outbox[i]
			c.outbox = slices.Delete(c.outbox, i, i+1)
			c.resendWait = 0 // the server stores again
			line.Seq, line.Pending, line.History = m.Seq, false, c.replay
			if before, ok := c.lines.stored(line.Key, m.Seq); ok {
				c.view.ChatShow(line, before)
			}
			return
		}
	}
	c.show(ChatLine{Kind: shared.TypeText, Username: m.Username, Content: m.Content,
		Time: m.Timestamp, Seq: m.Seq, ID: m.ID, Own: m.Username == c.User, History: c.replay})
}

// show adds line to the transcript, at the end, but a join or a leave by
// its time, and returns it with its key.
func (c *Chat) show(line ChatLine) ChatLine {
	var at int64
	if !line.Time.IsZero() {
		at = line.Time.UnixMilli()
	}
	var key, before string
	var dropped []string
	if at != 0 && (line.Kind == shared.TypeJoin || line.Kind == shared.TypeLeave) {
		key, before, dropped = c.lines.addByTime(at)
	} else {
		key, dropped = c.lines.add(line.Seq, at)
	}
	line.Key = key
	c.view.ChatShow(line, before)
	for _, k := range dropped {
		c.view.ChatDrop(k)
	}
	return line
}

// Send sends a chat message. It is shown at once, marked pending until the
// server acknowledges it; while disconnected it waits in the outbox.
func (c *Chat) Send(content string) error {
	content = strings.TrimSpace(content)
	n := sentLen(content)
	switch {
	case content == "":
		return errors.New("type a message first")
	case n > shared.DefaultMaxContent:
		return errors.New("too long: " + strconv.Itoa(n) + " bytes; the limit is " + strconv.Itoa(shared.DefaultMaxContent))
	case c.stopped:
		return errors.New("this client was removed")
	}
	c.nextID++
	id := c.idPrefix + "-" + strconv.Itoa(c.nextID)
	c.outbox = append(c.outbox, c.show(ChatLine{Kind: shared.TypeText, Username: c.User, Content: content, Time: c.now(), ID: id, Own: true, Pending: true}))
	c.view.ChatError("")
	c.write(shared.Message{Type: shared.TypeText, ID: id, Content: content})
	return nil
}

// sentLen is the length of content as the server counts it: as a JSON
// string's, escapes in full ("<" is 6 bytes). (Invalid UTF-8, which the
// page's input never holds, would count more.)
func sentLen(content string) int {
	n := len(content)
	for i := 0; i < len(content); i++ {
		switch c := content[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
			n++
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 5
		case c == 0xE2 && (strings.HasPrefix(content[i:], "\u2028") || strings.HasPrefix(content[i:], "\u2029")):
			n += 3
		}
	}
	return n
}

// Typing tells the room the user is typing, at most once per a third of
// shared.TypingExpiry.
func (c *Chat) Typing() {
	now := c.now()
	if now.Sub(c.lastTypingTx) < shared.TypingExpiry/3 {
		return
	}
	c.lastTypingTx = now
	c.write(shared.Message{Type: shared.TypeTyping})
}

func (c *Chat) typingFrom(user string) {
	if user == c.User {
		return
	}
	c.typing[user] = c.now().Add(shared.TypingExpiry)
	c.showTyping()
}

// showTyping shows who types now, and sets a timer for the next expiry.
func (c *Chat) showTyping() {
	now := c.now()
	var users []string
	var next time.Time
	for u, until := range c.typing {
		if !until.After(now) {
			delete(c.typing, u)
			continue
		}
		users = append(users, u)
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	slices.Sort(users)
	c.view.ChatTyping(users)
	if c.typingTimer != nil {
		c.typingTimer.Stop()
	}
	if !next.IsZero() && !c.stopped {
		c.typingTimer = time.AfterFunc(next.Sub(now), func() { c.loop.Post(c.showTyping) })
	}
}
