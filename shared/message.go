package shared

import (
	"encoding/json"
	"time"
)

// Type names the kind of a [Message].
type Type string

// The message types. Each comment says who sends it and which fields it uses.
const (
	// TypeText is a chat line. Client → server: Content, and optionally ID,
	// an id the client chose so that it can recognise its own message when
	// the server broadcasts it back. Server → clients: every field stamped.
	TypeText Type = "text"
	// TypeJoin is broadcast when a user's first connection to a room
	// arrives. Users lists who joined; in a big room one message may carry
	// several, and Username is set only when it carries one. A run longer
	// than a frame holds goes as several join messages in a row.
	TypeJoin Type = "join"
	// TypeLeave is broadcast when a user's last connection to a room is
	// gone; Users and Username as for TypeJoin.
	TypeLeave Type = "leave"
	// TypeTyping says a user is typing. Never stored; clients expire it.
	TypeTyping Type = "typing"
	// TypeUserList carries the room's users in Users, each listed once. A
	// connection receives it once, when it joins; from then on TypeJoin and
	// TypeLeave say who comes and goes. In a room of more than 100
	// members, where joins and leaves go in runs, it comes with the next
	// run (within a quarter of a second), and already holds the run's
	// changes: a client replaces its list with it, and applies joins and
	// leaves as adding and removing names, in whatever order the two come.
	// The list of a big room comes in several, all but the last marked
	// More.
	TypeUserList Type = "user_list"
	// TypeHistory carries stored messages in Messages, oldest first. A
	// long history comes in several, all but the last marked More.
	TypeHistory Type = "history"
	// TypeError is the server's answer to input it could not use; see
	// [ErrorCode].
	TypeError Type = "error"
	// TypePing is the heartbeat: client → server, ID optional (see
	// [Heartbeat]). Not rate-limited apart from the other messages, not
	// stored, not broadcast.
	TypePing Type = "ping"
	// TypePong answers a TypePing: server → that client only, ID as the
	// ping's.
	TypePong Type = "pong"
)

// Known reports whether t is one of the types this package defines.
func (t Type) Known() bool {
	switch t {
	case TypeText, TypeJoin, TypeLeave, TypeTyping, TypeUserList, TypeHistory, TypeError, TypePing, TypePong:
		return true
	}
	return false
}

// Message is the chat envelope. Type says which fields matter; the zero
// value of an unused field is left out of the JSON, except for the four
// fields the tutorial clients always read.
type Message struct {
	Type      Type      `json:"type"`
	Username  string    `json:"username"`
	Content   string    `json:"content"`
	Timestamp time.Time `json:"timestamp"`
	Users     []string  `json:"users,omitempty"`

	// Room is the chat room the message belongs to.
	Room string `json:"room,omitempty"`
	// ID identifies a stored message. A client may set it on a text message
	// it sends; the server keeps it, so a resend is recognised. On
	// TypePing and TypePong it is the heartbeat's id.
	ID string `json:"id,omitempty"`
	// Seq is the message's position in its room, increasing by one per
	// stored message.
	Seq uint64 `json:"seq,omitempty"`
	// Code is set on TypeError messages.
	Code ErrorCode `json:"code,omitempty"`
	// Messages is set on TypeHistory messages.
	Messages []Message `json:"messages,omitempty"`
	// Epoch names the current life of a room's history; it changes when
	// the history starts over, which makes old Seq values meaningless.
	// Set on TypeHistory messages.
	Epoch string `json:"epoch,omitempty"`
	// Recovered answers a reconnecting client that asked for the messages
	// after a Seq: true when Messages holds exactly those, false when the
	// server could not serve that range (trimmed by retention, or a new
	// epoch) and Messages holds the latest ones instead. Absent when the
	// client did not ask.
	Recovered *bool `json:"recovered,omitempty"`
	// More is set on a TypeHistory or TypeUserList message that another
	// of its kind follows: a long history, or the list of a big room,
	// comes in pages of at most [MaxFrame] bytes each, and the last page
	// has More unset (see the package doc, "Frames and batches"). History
	// pages come oldest first, each with the same Epoch, Seq and
	// Recovered: a client applies Recovered and Seq once, after the last.
	// User list pages together are the list: a client gathers them and
	// replaces its list with them after the last.
	More bool `json:"more,omitempty"`
}

// Notification is one notification for one user, as stored and as pushed on
// /ws/notifications.
type Notification struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	// Type is the sender's category, such as "info" or "order"; the
	// protocol does not interpret it.
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
	Read      bool            `json:"read"`
	// Seq is the notification's position among the user's notifications,
	// increasing by one, so that a client can resume after it.
	Seq uint64 `json:"seq,omitempty"`
	// From is the user who sent it, set by the server from the sender's
	// connection (a poke); empty for notifications from the HTTP API.
	From string `json:"from,omitempty"`
}

// DashboardData is one snapshot of the server's own metrics, pushed on
// /ws/dashboard; see the package doc, "Dashboard". Each key of Metrics,
// with its unit, is documented where the server defines it (the doc
// comment of server/dashboard.go).
type DashboardData struct {
	// Timestamp is when the server took the snapshot (server clock).
	Timestamp time.Time          `json:"timestamp"`
	Metrics   map[string]float64 `json:"metrics"`
	// Node names the server process that took the snapshot, when several
	// share rooms (-nats); absent for a server on its own.
	Node string `json:"node,omitempty"`
	// History is set only on the first messages of a connection: the
	// snapshots before this one, oldest first, so that a new viewer's
	// charts start full. The recent snapshots, up to [DashboardHistory]
	// of them, come in pages of at most [MaxFrame] bytes, oldest first:
	// each page is a snapshot with the ones before it in its History,
	// and every page but the last, whose own snapshot is the newest, has
	// More set. Read in order, a page's History and then the page itself
	// are the snapshots oldest first; a client that ignores History
	// reads each page as a normal snapshot, in order of Timestamp.
	History []DashboardData `json:"history,omitempty"`
	// More is set on a page of the history that another follows.
	More bool `json:"more,omitempty"`
}
