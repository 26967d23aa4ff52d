package shared

import "encoding/json"

// Fault injection, for teaching: a client asks the server to break its
// own connection in a chosen way, and watches how it recovers. The
// server accepts it only when it runs with -playground-faults; otherwise
// it answers with an error of code [CodeForbidden] and the connection
// stays open. See the package doc, "Fault injection".
//
//	{"type":"fault","content":"stall_reads"}      client → server, on /ws/chat, /ws/notifications or /ws/dashboard
//	{"type":"fault","content":"latency=500"}
//	{"type":"fault","content":"close=4001"}
//	{"type":"fault","content":"latency=500"}      server → that client: accepted
//
// Content is the fault's name, then optionally "=" and its parameter, a
// whole number. The server answers an accepted fault with the same
// message, before the fault takes effect, and an unusable one with an
// error of code [CodeBadRequest]. The error is each endpoint's own: a
// [TypeError] [Message] on chat, a [NotifyError] on notifications, a
// [Heartbeat] of type "error" on the dashboard. (On chat the answer is a
// whole [Message], whose other fields are empty.)
//
// Every fault means the same on the three endpoints, with these
// readings where an endpoint differs from chat: the pings that no_pong
// leaves unanswered are each endpoint's heartbeat ([Heartbeat]); on the
// dashboard, which sends nothing but its snapshots and answers, drop
// drops whatever the viewer sends (its pings, whose pongs never come),
// and stall_reads holds the snapshots back, the newest replacing the one
// waiting as for any slow viewer, so that only answers fill the queue's
// bound; latency delays the snapshots too.
const TypeFault Type = "fault"

// ParseFault reports whether a frame a client sent is a fault request,
// for the endpoints whose decoders do not know the type (notifications,
// the dashboard): a JSON object whose type is "fault" and whose content,
// if any, is a string. The content is unchecked.
func ParseFault(data []byte) (content string, ok bool) {
	var f struct {
		Type    Type   `json:"type"`
		Content string `json:"content"`
	}
	if json.Unmarshal(data, &f) != nil || f.Type != TypeFault {
		return "", false
	}
	return f.Content, true
}

// EncodeFault returns the frame that acknowledges the fault content on
// notifications and the dashboard: {"type":"fault","content":content}.
func EncodeFault(content string) []byte {
	b, _ := json.Marshal(struct {
		Type    Type   `json:"type"`
		Content string `json:"content"`
	}{TypeFault, content})
	return b
}

// The faults, as Content names them.
const (
	// FaultLatency=MS delays every frame the server writes to this
	// connection by MS milliseconds, 1 to 5000; latency=0 ends it.
	FaultLatency = "latency"
	// FaultDrop=N makes the server drop the next N frames the client
	// sends (default 1, at most 100), whatever they are: text, typing,
	// pokes, pings (whose pongs then never come).
	FaultDrop = "drop"
	// FaultNoPong stops the server answering this connection's
	// application-level pings, for the connection's life: the client's
	// heartbeat sees the connection dead and reconnects.
	FaultNoPong = "no_pong"
	// FaultStallReads=N stops the server writing to this connection, as
	// if its client had stopped reading: what the server sends waits in
	// the connection's send queue, bounded at N messages (default 16, at
	// most the server's send queue), and once that is full the server
	// closes the connection with 1008 "too slow", as it closes any slow
	// consumer. A client that reconnects with since=SEQ misses nothing.
	// A stall that did not fill the queue within 30 s ends, and the
	// queue is written.
	FaultStallReads = "stall_reads"
	// FaultClose=CODE closes the connection with that close code: 1000,
	// 1001, 1008, 1011, or 4000 to 4999; reason "fault injected".
	FaultClose = "close"
	// FaultRestart closes the connection with 1012 "service restart", as
	// a restarting server would: the client reconnects.
	FaultRestart = "restart"
)

// ReasonFault is the close reason of a connection closed by [FaultClose].
const ReasonFault = "fault injected"

// ReasonRestart is the close reason of a connection closed by
// [FaultRestart].
const ReasonRestart = "service restart"

// FaultCloseAllowed reports whether a client may ask [FaultClose] for
// code.
func FaultCloseAllowed(code int) bool {
	switch code {
	case 1000, 1001, 1008, 1011:
		return true
	}
	return code >= 4000 && code <= 4999
}
