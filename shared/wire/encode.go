package wire

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"wsplay/shared"
)

// Encode is shared.Encode without reflection: the same bytes as
// json.Marshal.
func Encode(m shared.Message) ([]byte, error) {
	var e encoder
	e.message(m)
	return e.b, e.err
}

// EncodeNotify is shared.EncodeNotify without reflection.
func EncodeNotify(m shared.NotifyMessage) ([]byte, error) {
	var e encoder
	e.notify(m)
	return e.b, e.err
}

// EncodeLoginRequest is json.Marshal of a login request.
func EncodeLoginRequest(r shared.LoginRequest) []byte {
	var e encoder
	e.b = append(e.b, '{')
	e.field("username")
	e.str(r.Username)
	return append(e.b, '}')
}

// encoder appends JSON to b; the first error stops it.
type encoder struct {
	b     []byte
	err   error
	comma bool // a field has been written in the current object
}

//go:noinline
func (e *encoder) field(name string) {
	if e.comma {
		e.b = append(e.b, ',')
	}
	e.comma = true
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// begin starts an object, and end ends it; end(begin()) around the
// fields.
//
//go:noinline
func (e *encoder) begin() (outer bool) {
	e.b = append(e.b, '{')
	outer, e.comma = e.comma, false
	return outer
}

//go:noinline
func (e *encoder) end(outer bool) {
	e.comma = outer
	e.b = append(e.b, '}')
}

const hex = "0123456789abcdef"

// str writes s as encoding/json does: HTML characters, U+2028, U+2029
// and control characters escaped, invalid UTF-8 replaced with U+FFFD.
//
//go:noinline
func (e *encoder) str(s string) {
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}

//go:noinline
func (e *encoder) time(t time.Time) {
	b, err := t.MarshalJSON()
	if err != nil && e.err == nil {
		e.err = shared.Errorf(shared.CodeBadRequest, "%v", err)
	}
	e.b = append(e.b, b...)
}

//go:noinline
func (e *encoder) strings(list []string) {
	e.b = append(e.b, '[')
	for i, s := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

//go:noinline
func (e *encoder) boolean(v bool) { e.b = strconv.AppendBool(e.b, v) }

func (e *encoder) message(m shared.Message) {
	outer := e.begin()
	e.field("type")
	e.str(string(m.Type))
	e.field("username")
	e.str(m.Username)
	e.field("content")
	e.str(m.Content)
	e.field("timestamp")
	e.time(m.Timestamp)
	if len(m.Users) > 0 {
		e.field("users")
		e.strings(m.Users)
	}
	e.optional("room", m.Room)
	e.optional("id", m.ID)
	if m.Seq != 0 {
		e.field("seq")
		e.b = strconv.AppendUint(e.b, m.Seq, 10)
	}
	e.optional("code", string(m.Code))
	if len(m.Messages) > 0 {
		e.field("messages")
		e.b = append(e.b, '[')
		for i, h := range m.Messages {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.message(h)
		}
		e.b = append(e.b, ']')
	}
	e.optional("epoch", m.Epoch)
	if m.Recovered != nil {
		e.field("recovered")
		e.boolean(*m.Recovered)
	}
	if m.More {
		e.field("more")
		e.boolean(true)
	}
	e.end(outer)
}

// optional writes a string field tagged omitempty.
//
//go:noinline
func (e *encoder) optional(name, v string) {
	if v != "" {
		e.field(name)
		e.str(v)
	}
}

func (e *encoder) notify(m shared.NotifyMessage) {
	outer := e.begin()
	e.field("type")
	e.str(string(m.Type))
	e.optional("code", string(m.Code))
	if m.Notification != nil {
		e.field("notification")
		e.notification(*m.Notification)
	}
	if m.Unread != 0 {
		e.field("unread")
		e.b = strconv.AppendInt(e.b, int64(m.Unread), 10)
	}
	if m.All {
		e.field("all")
		e.boolean(true)
	}
	if m.Seq != 0 {
		e.field("seq")
		e.b = strconv.AppendUint(e.b, m.Seq, 10)
	}
	e.optional("id", m.ID)
	if len(m.IDs) > 0 {
		e.field("ids")
		e.strings(m.IDs)
	}
	e.optional("to", m.To)
	e.optional("title", m.Title)
	e.optional("message", m.Message)
	if m.More {
		e.field("more")
		e.boolean(true)
	}
	e.end(outer)
}

func (e *encoder) notification(n shared.Notification) {
	outer := e.begin()
	e.field("id")
	e.str(n.ID)
	e.field("user_id")
	e.str(n.UserID)
	e.field("type")
	e.str(n.Type)
	e.field("title")
	e.str(n.Title)
	e.field("message")
	e.str(n.Message)
	if len(n.Data) > 0 {
		e.field("data")
		e.raw(n.Data)
	}
	e.field("timestamp")
	e.time(n.Timestamp)
	e.field("read")
	e.boolean(n.Read)
	if n.Seq != 0 {
		e.field("seq")
		e.b = strconv.AppendUint(e.b, n.Seq, 10)
	}
	e.optional("from", n.From)
	e.end(outer)
}

// raw writes a json.RawMessage as json.Marshal does: checked, without
// its whitespace, and with HTML characters, U+2028 and U+2029 escaped.
func (e *encoder) raw(m json.RawMessage) {
	if err := decode(m, (*decoder).skip); err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	b := e.b
	inString := false
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			continue
		case c == 0xE2 && i+2 < len(m) && m[i+1] == 0x80 && m[i+2]&^1 == 0xA8:
			b = append(b, '\\', 'u', '2', '0', '2', hex[m[i+2]&0xF])
			i += 2
			continue
		case inString && c == '\\':
			b = append(b, c, m[i+1])
			i++
			continue
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		b = append(b, c)
	}
	e.b = b
}
