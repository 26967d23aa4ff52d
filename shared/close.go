package shared

import (
	"fmt"
	"unicode/utf8"
)

// CloseCode is a WebSocket close status code (RFC 6455, section 7.4).
type CloseCode int

// The close codes wsplay servers send or clients observe. The package doc
// lists what a client does on each; [DescribeClose] returns the same advice.
const (
	CloseNormal          CloseCode = 1000
	CloseGoingAway       CloseCode = 1001
	CloseProtocolError   CloseCode = 1002
	CloseUnsupportedData CloseCode = 1003
	CloseAbnormal        CloseCode = 1006 // never sent; reported when no close frame arrived
	CloseInvalidPayload  CloseCode = 1007
	ClosePolicyViolation CloseCode = 1008
	CloseTooBig          CloseCode = 1009
	CloseInternalError   CloseCode = 1011
	CloseServiceRestart  CloseCode = 1012
	CloseTryAgainLater   CloseCode = 1013
)

// CloseAdvice says what a close code means and what a client should do.
type CloseAdvice struct {
	Meaning string
	// Reconnect is true when a new connection may succeed, after a
	// jittered, exponential backoff. False means the cause is on the
	// client's side, or it asked to close, and retrying would repeat it.
	Reconnect bool
}

// DescribeClose returns the advice for code. Unknown codes in the private
// range 4000-4999 and elsewhere get a generic answer that does not reconnect.
func DescribeClose(code CloseCode) CloseAdvice {
	switch code {
	case CloseNormal:
		return CloseAdvice{"normal closure: the other side was done", false}
	case CloseGoingAway:
		return CloseAdvice{"going away: the server is shutting down or restarting", true}
	case CloseProtocolError:
		return CloseAdvice{"protocol error: a malformed frame was sent", false}
	case CloseUnsupportedData:
		return CloseAdvice{"unsupported data: this endpoint does not accept that frame type", false}
	case CloseAbnormal:
		return CloseAdvice{"abnormal closure: the connection dropped without a close frame", true}
	case CloseInvalidPayload:
		return CloseAdvice{"invalid payload: a text frame was not valid UTF-8", false}
	case ClosePolicyViolation:
		return CloseAdvice{"policy violation: too slow a reader, or repeated bad input", true}
	case CloseTooBig:
		return CloseAdvice{"message too big: over the endpoint's read limit", false}
	case CloseInternalError:
		return CloseAdvice{"internal error: the server failed", true}
	case CloseServiceRestart:
		return CloseAdvice{"service restart: the server is restarting", true}
	case CloseTryAgainLater:
		return CloseAdvice{"try again later: the server is over capacity", true}
	}
	if status, ok := RefusalStatus(code); ok {
		switch status {
		case 429:
			return CloseAdvice{"refused: too many connections (HTTP 429)", true}
		case 503:
			return CloseAdvice{"refused: the server is shutting down (HTTP 503)", true}
		}
		return CloseAdvice{fmt.Sprintf("refused: the handshake was not accepted (HTTP %d)", status), false}
	}
	return CloseAdvice{fmt.Sprintf("close code %d: not one wsplay uses", int(code)), false}
}

// SubprotocolExplain is the WebSocket subprotocol a client offers to have
// a refused handshake explained over the socket. A browser's WebSocket
// API never shows a refused handshake's HTTP status or body (the page
// sees only an error, then close code 1006), so a server that refuses a
// handshake offering it accepts the upgrade instead, confirming
// SubprotocolExplain, and closes at once with [CloseRefusedBase] plus the
// HTTP status it would have answered, the refusal's message as the
// reason: the page can say why, in words. A client that does not offer
// it gets the HTTP status and body, as any WebSocket client expects.
// A handshake that is accepted never confirms this one: offer it beside
// [SubprotocolPlain] (and [SubprotocolBatch] where wanted), because a
// browser fails a connection whose server confirms none of the
// subprotocols it offered.
//
// Handshakes that are not WebSocket handshakes of version 13, and those
// for a host name the server does not answer to (DNS rebinding), are
// never explained this way.
const SubprotocolExplain = "wsplay-explain"

// SubprotocolPlain is the WebSocket subprotocol of the messages of this
// package, one per frame: what every endpoint of a wsplay server speaks.
// An endpoint confirms it when it was offered and it confirms nothing
// more specific ([SubprotocolBatch]), so that a client offering
// [SubprotocolExplain] always has a subprotocol confirmed when it is
// admitted, as browsers require.
const SubprotocolPlain = "wsplay"

// CloseRefusedBase is added to the HTTP status of a refused handshake to
// make the close code of its explanation (see [SubprotocolExplain]):
// 4400 bad request (a bad room or user name, say), 4401 no or bad token,
// 4403 origin not allowed, 4429 too many connections, 4503 shutting down.
// 4429 and 4503 may succeed later (after a backoff); the others repeat
// until the client changes what it sends.
const CloseRefusedBase = 4000

// RefusalStatus returns the HTTP status a close code explains, if it is
// one of a refused handshake's (CloseRefusedBase plus 400 to 599).
func RefusalStatus(code CloseCode) (status int, ok bool) {
	status = int(code) - CloseRefusedBase
	return status, status >= 400 && status <= 599
}

// MaxCloseReason is the most bytes a close frame's reason may hold (RFC
// 6455: a control frame's payload is at most 125 bytes, two of them the
// code).
const MaxCloseReason = 123

// ClipCloseReason cuts s to at most MaxCloseReason bytes, on a rune
// boundary, ending in "…" when it had to cut.
func ClipCloseReason(s string) string {
	if len(s) <= MaxCloseReason {
		return s
	}
	const ellipsis = "…"
	cut := MaxCloseReason - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// The reasons a wsplay server puts in the close frames it decides on, with
// the code each goes with. Clients may show them; they branch on the code.
const (
	ReasonTooSlow       = "too slow"                            // 1008: the send queue filled
	ReasonShutdown      = "server shutting down"                // 1001
	ReasonInvalidUTF8   = "invalid UTF-8"                       // 1007
	ReasonTooBig        = "message too big"                     // 1009
	ReasonBinary        = "binary frames are not accepted here" // 1003
	ReasonTooManyFaults = "too many bad messages"               // 1008: repeated bad input
	ReasonRateLimit     = "over the message rate"               // 1008: a flood
	ReasonRoomFailed    = "room unavailable"                    // 1011: the room's history cannot be read
	ReasonRoomReset     = "room history started over"           // 1012: reconnect, and start from the new history
	ReasonNotifyFailed  = "notifications unavailable"           // 1011: the user's notifications cannot be read
)
