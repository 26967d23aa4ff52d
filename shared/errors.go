package shared

import "fmt"

// ErrorCode is the stable, machine-readable reason in a [TypeError] message.
type ErrorCode string

// The error codes. A client may rely on them; their wording in Content may
// change.
const (
	// CodeBadJSON: the frame is not a JSON object, or a field has the wrong
	// JSON type.
	CodeBadJSON ErrorCode = "bad_json"
	// CodeUnknownType: the message has no type, or one this endpoint does
	// not accept.
	CodeUnknownType ErrorCode = "unknown_type"
	// CodeBadRequest: well-formed but unusable, such as empty content or a
	// malformed room name.
	CodeBadRequest ErrorCode = "bad_request"
	// CodeTooLarge: a field is longer than the server allows.
	CodeTooLarge ErrorCode = "too_large"
	// CodeRateLimited: the client sends faster than allowed; Content says
	// when to try again.
	CodeRateLimited ErrorCode = "rate_limited"
	// CodeForbidden: the resource belongs to someone else.
	CodeForbidden ErrorCode = "forbidden"
	// CodeInternal: the server failed; the request may be retried.
	CodeInternal ErrorCode = "internal"

	// The HTTP API (POST and GET /api/notifications) answers errors with
	// {"error":{"code":…,"message":…}}, using the codes above and these.

	// CodeUnauthorized: the request lacks the right credentials (HTTP 401).
	CodeUnauthorized ErrorCode = "unauthorized"
	// CodeMethodNotAllowed: the endpoint does not take this HTTP method
	// (HTTP 405; the Allow header lists those it takes).
	CodeMethodNotAllowed ErrorCode = "method_not_allowed"
	// CodeUnavailable: the server is shutting down (HTTP 503); try again
	// after a moment, against the restarted server. Also: the
	// notification store is full, and cannot take a new user; and, on
	// chat, the message store that several servers share (NATS) cannot
	// be reached: the message was not stored, send it again in a moment.
	CodeUnavailable ErrorCode = "unavailable"
	// CodeNotFound: an HTTP API that this server does not offer, such as
	// guest login when it is turned off; or a poke to a user the server
	// does not know.
	CodeNotFound ErrorCode = "not_found"
)

// Error is a protocol error: something a client sent that the server
// answers with a [TypeError] message instead of closing the connection.
type Error struct {
	Code   ErrorCode
	Detail string // for people; never parsed
	// ID is the id of the client's message the error refuses, when it
	// had a valid one, so that the client knows which message was not
	// stored (a chat text over the server's limit, or empty).
	ID string
}

// Errorf returns an [*Error] with the given code and a formatted detail.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Error returns the code and the detail, for logs.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Detail }

// Message returns the [TypeError] message that reports e to a client.
func (e *Error) Message() Message {
	return Message{Type: TypeError, Code: e.Code, Content: e.Detail, ID: e.ID}
}
