// Package wire encodes and decodes the protocol's messages without
// reflection, for the WebAssembly client. In place of encoding/json (and
// the parts of reflect it brings), it makes main.wasm 6% smaller after
// compression, for the few types the client reads and writes.
//
// It is encoding/json for these types, not an approximation of it: a
// value decodes here exactly when encoding/json would decode it, into the
// same value (field names matched case-insensitively, the last of
// duplicate keys winning, invalid UTF-8 and lone surrogates replaced with
// U+FFFD, nesting limited to 10,000), and a value encodes to the same
// bytes as json.Marshal. The fuzz tests in this package hold it to that,
// against encoding/json itself. The server keeps using encoding/json,
// through package shared, for its more detailed errors.
package wire

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"wsplay/shared"
)

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// decoder reads one JSON value from data, strictly: what is not JSON is
// an error, as it is for encoding/json.
type decoder struct {
	data  []byte
	off   int
	depth int
}

// decode runs into on data, which must hold one JSON value and nothing
// else but whitespace.
func decode(data []byte, into func(*decoder) error) error {
	d := &decoder{data: data}
	if d.peek() == 0 && d.off == len(data) {
		return shared.Errorf(shared.CodeBadJSON, "empty message")
	}
	if err := into(d); err != nil {
		return err
	}
	if d.peek(); d.off != len(data) {
		return shared.Errorf(shared.CodeBadJSON, "trailing data after the JSON object")
	}
	return nil
}

//go:noinline
func (d *decoder) syntax(what string) error {
	if d.off >= len(d.data) {
		return shared.Errorf(shared.CodeBadJSON, "not valid JSON: unexpected end of input")
	}
	return shared.Errorf(shared.CodeBadJSON, "not valid JSON: %s at byte %d", what, d.off)
}

//go:noinline
func (d *decoder) wrongType(key, want string) error {
	return shared.Errorf(shared.CodeBadJSON, "field %q has the wrong type: want a JSON %s", key, want)
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	for d.off < len(d.data) {
		switch c := d.data[d.off]; c {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return c
		}
	}
	return 0
}

func (d *decoder) enter() error {
	if d.depth++; d.depth > maxDepth {
		return shared.Errorf(shared.CodeBadJSON, "not valid JSON: nested more than %d deep", maxDepth)
	}
	return nil
}

// object reads an object, calling field for each key; field reads the
// value.
func (d *decoder) object(field func(key string) error) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.off++ // {
	if d.peek() == '}' {
		d.off++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.syntax("want a string key")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.syntax("want a colon after the key")
		}
		d.off++
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case '}':
			d.off++
			d.depth--
			return nil
		default:
			return d.syntax("want a comma or the object's end")
		}
	}
}

// array reads an array, calling elem for each element.
func (d *decoder) array(elem func() error) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.off++ // [
	if d.peek() == ']' {
		d.off++
		d.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case ']':
			d.off++
			d.depth--
			return nil
		default:
			return d.syntax("want a comma or the array's end")
		}
	}
}

// str reads a string, at its opening quote, as encoding/json unquotes it.
func (d *decoder) str() (string, error) {
	i := d.off + 1
	for i < len(d.data) { // the common case: nothing to unquote
		c := d.data[i]
		if c == '"' {
			s := string(d.data[d.off+1 : i])
			d.off = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	b := append([]byte(nil), d.data[d.off+1:i]...)
	for {
		if i >= len(d.data) {
			d.off = i
			return "", d.syntax("unterminated string")
		}
		switch c := d.data[i]; {
		case c == '"':
			d.off = i + 1
			return string(b), nil
		case c < 0x20:
			d.off = i
			return "", d.syntax("control character in a string")
		case c == '\\':
			if i+1 >= len(d.data) {
				d.off = i + 1
				return "", d.syntax("unterminated escape")
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(d.data[i+2:])
				if r < 0 {
					d.off = i
					return "", d.syntax(`invalid \u escape`)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if len(d.data) > i+1 && d.data[i] == '\\' && d.data[i+1] == 'u' {
						r2 = hex4(d.data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.off = i
				return "", d.syntax("invalid escape")
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d.data[i:i+size]...)
			}
			i += size
		}
	}
}

// hex4 returns the value of four hex digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a number's literal, checking its syntax.
func (d *decoder) number() (string, error) {
	start, i := d.off, d.off
	digits := func() bool {
		n := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case !digits():
		d.off = i
		return "", d.syntax("invalid number")
	}
	if i < len(d.data) && d.data[i] == '.' {
		if i++; !digits() {
			d.off = i
			return "", d.syntax("invalid number")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			d.off = i
			return "", d.syntax("invalid number")
		}
	}
	d.off = i
	return string(d.data[start:i]), nil
}

// literal reads true, false or null.
func (d *decoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.off:], []byte(word)) {
		return d.syntax("invalid literal")
	}
	d.off += len(word)
	return nil
}

// skip reads any value.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func(string) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, err := d.str()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err := d.number()
		return err
	}
	return d.syntax("invalid character")
}

// raw reads any value and returns its bytes.
func (d *decoder) raw() ([]byte, error) {
	d.peek()
	start := d.off
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.off], nil
}

// null reads a null if one is next, leaving the target as it is, as
// encoding/json does for everything but pointers, slices and maps.
//
//go:noinline
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// The typed readers: each reads a value of its JSON type, or null, into
// p; anything else is the error encoding/json gives, a wrong type.

//go:noinline
func stringInto[S ~string](d *decoder, key string, p *S) error {
	if null, err := d.null(); null || err != nil {
		return err
	}
	if d.peek() != '"' {
		return d.wrongType(key, "string")
	}
	s, err := d.str()
	*p = S(s)
	return err
}

func (d *decoder) numberFor(key, want string) (lit string, null bool, err error) {
	if null, err := d.null(); null || err != nil {
		return "", null, err
	}
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return "", false, d.wrongType(key, want)
	}
	lit, err = d.number()
	return lit, false, err
}

func (d *decoder) uintInto(key string, p *uint64) error {
	lit, null, err := d.numberFor(key, "number")
	if null || err != nil {
		return err
	}
	n, err := strconv.ParseUint(lit, 10, 64)
	if err != nil {
		return d.wrongType(key, "unsigned integer")
	}
	*p = n
	return nil
}

func (d *decoder) intInto(key string, p *int) error {
	lit, null, err := d.numberFor(key, "number")
	if null || err != nil {
		return err
	}
	n, err := strconv.ParseInt(lit, 10, strconv.IntSize)
	if err != nil {
		return d.wrongType(key, "integer")
	}
	*p = int(n)
	return nil
}

func (d *decoder) floatInto(key string, p *float64) error {
	lit, null, err := d.numberFor(key, "number")
	if null || err != nil {
		return err
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return d.wrongType(key, "number in range")
	}
	*p = f
	return nil
}

func (d *decoder) boolInto(key string, p *bool) error {
	if null, err := d.null(); null || err != nil {
		return err
	}
	switch d.peek() {
	case 't':
		*p = true
		return d.literal("true")
	case 'f':
		*p = false
		return d.literal("false")
	}
	return d.wrongType(key, "boolean")
}

// boolPtrInto reads into a *bool: null makes it nil, anything else goes
// into the bool it points to, made if need be.
func (d *decoder) boolPtrInto(key string, p **bool) error {
	if null, err := d.null(); null || err != nil {
		*p = nil
		return err
	}
	if *p == nil {
		*p = new(bool)
	}
	return d.boolInto(key, *p)
}

// timeInto hands the value, whatever its JSON type, to time.Time's
// UnmarshalJSON, as encoding/json does.
//
//go:noinline
func (d *decoder) timeInto(key string, p *time.Time) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	if err := p.UnmarshalJSON(raw); err != nil {
		if string(raw[:1]) == `"` {
			return shared.Errorf(shared.CodeBadJSON, "a time must be a string in RFC 3339 format, such as %q", "2026-11-28T09:30:00Z")
		}
		return d.wrongType(key, "string")
	}
	return nil
}

// rawInto keeps the value's bytes, as json.RawMessage does.
func (d *decoder) rawInto(p *json.RawMessage) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	*p = append((*p)[:0], raw...)
	return nil
}

// objectFor reads an object into a struct: null leaves it as it is.
func (d *decoder) objectFor(key string, field func(key string) error) error {
	if null, err := d.null(); null || err != nil {
		return err
	}
	if d.peek() != '{' {
		if key == "" {
			return shared.Errorf(shared.CodeBadJSON, "message must be a JSON object")
		}
		return d.wrongType(key, "object")
	}
	return d.object(field)
}

// sliceInto reads an array into *p as encoding/json does: null makes it
// nil, [] empty, and elements already there are decoded into, not
// replaced (which shows only when a key is repeated).
func sliceInto[T any](d *decoder, key string, p *[]T, elem func(*T) error) error {
	if null, err := d.null(); null || err != nil {
		*p = nil
		return err
	}
	if d.peek() != '[' {
		return d.wrongType(key, "array")
	}
	s, i := *p, 0
	err := d.array(func() error {
		if i >= cap(s) {
			s = slices.Grow(s, 1)
		}
		if i >= len(s) {
			s = s[:i+1]
		}
		i++
		return elem(&s[i-1])
	})
	if err != nil {
		return err
	}
	if i == 0 {
		s = []T{}
	}
	*p = s[:i]
	return nil
}

// ptrInto reads into a *T: null makes it nil; anything else goes into
// the T it points to, made if need be.
func ptrInto[T any](d *decoder, p **T, into func(*T) error) error {
	if null, err := d.null(); null || err != nil {
		*p = nil
		return err
	}
	if *p == nil {
		*p = new(T)
	}
	return into(*p)
}

// match returns the one of names that key selects, as encoding/json
// selects a struct field: an exact match first, then one equal under
// Unicode case folding; or "" for none.
func match(key string, names ...string) string {
	for _, n := range names {
		if key == n {
			return n
		}
	}
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return n
		}
	}
	return ""
}
