package shared

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// NotifyType names the kind of a [NotifyMessage].
type NotifyType string

// The notification endpoint's message types. The package doc,
// "Notifications", shows the conversation; each comment here says who sends
// the message and which fields it uses.
const (
	// NotifyNotification: server → client. Notification holds one stored
	// notification; Unread is the user's unread count with it.
	NotifyNotification NotifyType = "notification"
	// NotifySynced: server → client, once per connection, after the
	// stored notifications the connection asked for and before any live
	// one. Seq is the user's newest notification seq (resume after it),
	// Unread the unread count, and IDs the ids of every unread
	// notification: whatever else a client holds is read. When the ids
	// would not fit one frame ([MaxFrame]), synced comes in several in a
	// row, each with the same Seq and Unread and a part of IDs, all but
	// the last marked More: the unread ids are those of every part, and
	// the backlog ends with the last.
	NotifySynced NotifyType = "synced"
	// NotifyRead: server → client, to every connection of the user, when
	// notifications were marked read: those in IDs, or with All set,
	// every one with a seq up to Seq. Unread is the new unread count.
	NotifyRead NotifyType = "read"
	// NotifyPoked: server → client, to the sender of a poke once it is
	// stored: To and ID (the id of the notification made for To).
	NotifyPoked NotifyType = "poked"
	// NotifyError: server → client, the answer to a message the server
	// could not use: Code and Message. The connection stays open.
	NotifyError NotifyType = "error"

	// NotifyMarkRead: client → server. ID marks one notification read;
	// All marks every one up to Seq (0 or absent: up to the newest).
	// Only the user's own notifications can be marked; another id gets
	// an error with [CodeForbidden].
	NotifyMarkRead NotifyType = "mark_read"
	// NotifyPoke: client → server. Stores a notification of type "poke"
	// for user To with Title and Message; the server sets its From to
	// the sender's identity.
	NotifyPoke NotifyType = "poke"

	// NotifyPing: client → server, the heartbeat; ID optional (see
	// [Heartbeat]).
	NotifyPing NotifyType = "ping"
	// NotifyPong: server → client, the answer to a NotifyPing, with its
	// ID.
	NotifyPong NotifyType = "pong"
)

// Known reports whether t is one of the notification message types.
func (t NotifyType) Known() bool {
	switch t {
	case NotifyNotification, NotifySynced, NotifyRead, NotifyPoked, NotifyError, NotifyMarkRead, NotifyPoke, NotifyPing, NotifyPong:
		return true
	}
	return false
}

// FromClient reports whether clients may send messages of type t.
func (t NotifyType) FromClient() bool {
	return t == NotifyMarkRead || t == NotifyPoke || t == NotifyPing
}

// NotifyMessage is the envelope of /ws/notifications, in both directions.
// Type says which fields matter; the others are left out of the JSON. A
// field a message uses may be left out too when it is zero: an absent
// unread or seq means 0, an absent ids means none.
type NotifyMessage struct {
	Type         NotifyType    `json:"type"`
	Code         ErrorCode     `json:"code,omitempty"`
	Notification *Notification `json:"notification,omitempty"`
	Unread       int           `json:"unread,omitempty"`
	All          bool          `json:"all,omitempty"`
	Seq          uint64        `json:"seq,omitempty"`
	ID           string        `json:"id,omitempty"`
	IDs          []string      `json:"ids,omitempty"`
	To           string        `json:"to,omitempty"`
	Title        string        `json:"title,omitempty"`
	Message      string        `json:"message,omitempty"`
	// More is set on a NotifySynced message that another follows.
	More bool `json:"more,omitempty"`
}

// Limits on what a notification may hold. The HTTP API also bounds the
// whole request body, data included, to [MaxNotifyBody], and the
// notification as it is sent, encoded, to [MaxNotifyFrame].
const (
	MaxNotifyTitle   = 200     // bytes
	MaxNotifyMessage = 4 << 10 // bytes
	MaxNotifyBody    = 64 << 10
	// MaxNotifyFrame bounds a notification's encoded size, in a
	// NotifyNotification message with room to spare for the envelope,
	// so that every such message fits [MaxFrame]. A notification over
	// it is refused, with its size.
	MaxNotifyFrame = MaxFrame - 512
	// NotifyBroadcast as the user_id of POST /api/notifications stores
	// the notification for every known user.
	NotifyBroadcast = "*"
	// PokeType is the Type of notifications made by a poke.
	PokeType = "poke"
)

// EncodeNotify returns the JSON text frame for m.
func EncodeNotify(m NotifyMessage) ([]byte, error) {
	return json.Marshal(m)
}

// DecodeNotify parses one text frame of /ws/notifications. Like [Decode],
// the frame must hold exactly one JSON object whose type is
// [NotifyType.Known], unknown fields are ignored, and every error is an
// [*Error] with the code to send back.
func DecodeNotify(data []byte) (NotifyMessage, error) {
	var m NotifyMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return NotifyMessage{}, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return NotifyMessage{}, Errorf(CodeBadJSON, "trailing data after the JSON object")
	}
	switch {
	case m.Type == "":
		return NotifyMessage{}, Errorf(CodeUnknownType, "message has no type")
	case !m.Type.Known():
		return NotifyMessage{}, Errorf(CodeUnknownType, "unknown message type %.40q", m.Type)
	}
	return m, nil
}

// NotifyMessage returns the [NotifyError] message that reports e to a
// client of /ws/notifications.
func (e *Error) NotifyMessage() NotifyMessage {
	return NotifyMessage{Type: NotifyError, Code: e.Code, Message: e.Detail}
}
