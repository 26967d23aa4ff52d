package shared

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"
	"unicode/utf8"
)

// Encode returns the JSON text frame for m.
func Encode(m Message) ([]byte, error) {
	return json.Marshal(m)
}

// Decode parses one text frame into a [Message]. The frame must hold exactly
// one JSON object whose type is [Type.Known]; unknown fields are ignored, so
// that older clients keep working when the protocol grows.
//
// Every error Decode returns is an [*Error] whose Code is the one to send
// back to the client.
func Decode(data []byte) (Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return Message{}, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Message{}, Errorf(CodeBadJSON, "trailing data after the JSON object")
	}
	switch {
	case m.Type == "":
		return Message{}, Errorf(CodeUnknownType, "message has no type")
	case !m.Type.Known():
		return Message{}, Errorf(CodeUnknownType, "unknown message type %.40q", m.Type)
	}
	return m, nil
}

// jsonError turns an encoding/json error into a protocol error that names
// the problem without echoing the client's input back at length.
func jsonError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return Errorf(CodeBadJSON, "message must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return Errorf(CodeBadJSON, "field %q has the wrong type: got a JSON %s", typeErr.Field, typeErr.Value)
	}
	var timeErr *time.ParseError
	if errors.As(err, &timeErr) { // its text quotes the whole value
		return Errorf(CodeBadJSON, "a time must be a string in RFC 3339 format, such as %q", "2026-11-28T09:30:00Z")
	}
	if errors.Is(err, io.EOF) {
		return Errorf(CodeBadJSON, "empty message")
	}
	return Errorf(CodeBadJSON, "not valid JSON: %s", clip(err.Error(), maxJSONDetail))
}

// maxJSONDetail bounds how much of a JSON error's own text an error
// message repeats: enough to point at the problem, never the input at
// length.
const maxJSONDetail = 120

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
