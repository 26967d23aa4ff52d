package shared

import (
	"bytes"
	"encoding/json"
)

// Heartbeat is the application-level ping and its answer. It is the same
// on /ws/chat, /ws/notifications and /ws/dashboard: see the package doc,
// "Heartbeat".
//
//	{"type":"ping","id":"17"}   client → server
//	{"type":"pong","id":"17"}   server → client
//
// On chat it is a [Message] of type [TypePing] or [TypePong] with ID set;
// on notifications a [NotifyMessage] of type [NotifyPing] or [NotifyPong];
// the dashboard, which has no envelope of its own, uses this type.
type Heartbeat struct {
	// Type is "ping", "pong", or on the dashboard "error" (the answer to
	// a ping the server could not use, or to a flood).
	Type string `json:"type"`
	// ID is optional, chosen by the client ([ValidateClientID]'s rule);
	// the pong carries the ping's, so that the client can time the round
	// trip.
	ID string `json:"id,omitempty"`
	// Code and Message are set on the dashboard's "error", as on a
	// [NotifyError].
	Code    ErrorCode `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}

// The heartbeat's types, as the dashboard's [Heartbeat] spells them.
const (
	HeartbeatPing  = "ping"
	HeartbeatPong  = "pong"
	HeartbeatError = "error"
)

// EncodePing returns the ping frame a client sends, with id ("" for
// none).
func EncodePing(id string) []byte { return encodeHeartbeat(HeartbeatPing, id) }

// EncodePong returns the frame that answers a ping that carried id.
func EncodePong(id string) []byte { return encodeHeartbeat(HeartbeatPong, id) }

func encodeHeartbeat(typ, id string) []byte {
	b := make([]byte, 0, 32+len(id))
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if id != "" {
		b = append(b, `,"id":`...)
		if ValidateClientID(id) == nil { // needs no escapes
			b = append(append(append(b, '"'), id...), '"')
		} else {
			q, _ := json.Marshal(id)
			b = append(b, q...)
		}
	}
	return append(b, '}')
}

// CheckPingID checks the id of a ping: empty, or by [ValidateClientID]'s
// rule. The error's code is [CodeBadRequest].
func CheckPingID(id string) *Error {
	if id == "" {
		return nil
	}
	if err := ValidateClientID(id); err != nil {
		return Errorf(CodeBadRequest, "ping: %v", err)
	}
	return nil
}

// pongMark is in every pong: a frame without it is not one, and is not
// decoded twice.
var pongMark = []byte(`"pong"`)

// ParsePong reports whether a frame the server sent is a pong, and
// returns the id it carries. Any endpoint's frame may be given: a
// client's read loop takes pongs out before the messages of its
// endpoint.
func ParsePong(data []byte) (id string, ok bool) {
	if !bytes.Contains(data, pongMark) {
		return "", false
	}
	var h Heartbeat
	if json.Unmarshal(data, &h) != nil || h.Type != HeartbeatPong {
		return "", false
	}
	return h.ID, true
}

// ParsePing reports whether a frame a client sent is a ping, for the
// dashboard, whose other text is ignored: a JSON object whose type is
// "ping". Its id is the client's, unchecked: see [CheckPingID].
func ParsePing(data []byte) (id string, ok bool) {
	var h Heartbeat
	if json.Unmarshal(data, &h) != nil || h.Type != HeartbeatPing {
		return "", false
	}
	return h.ID, true
}

// EncodeHeartbeatError returns the dashboard's error frame.
func EncodeHeartbeatError(e *Error) []byte {
	b, _ := json.Marshal(Heartbeat{Type: HeartbeatError, Code: e.Code, Message: e.Detail})
	return b
}
