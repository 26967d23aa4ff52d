package app

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Mode is how the echo panel reads what the user typed.
type Mode string

const (
	ModeText   Mode = "text"   // send the input as a text frame
	ModeHex    Mode = "hex"    // decode hex digits into a binary frame
	ModeBase64 Mode = "base64" // decode base64 into a binary frame
)

// Placeholder is what the echo input shows in mode: what to type.
func (m Mode) Placeholder() string {
	switch m {
	case ModeHex:
		return "Hex bytes, such as de ad be ef, and Enter"
	case ModeBase64:
		return "Base64, such as aGVsbG8=, and Enter"
	}
	return "Type a message and press Enter"
}

// ParsePayload turns the user's input into a frame. Hex may contain
// spaces, colons and a 0x prefix; base64 may be standard or URL-safe,
// padded or not.
func ParsePayload(mode Mode, input string) (websocket.MessageType, []byte, error) {
	switch mode {
	case ModeText:
		if !utf8.ValidString(input) {
			return 0, nil, errors.New("text must be valid UTF-8")
		}
		return websocket.MessageText, []byte(input), nil
	case ModeHex:
		digits := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(input), "0x"), "0X")
		digits = strings.Map(func(r rune) rune {
			if r == ' ' || r == ':' || r == '\n' || r == '\t' {
				return -1 // separators people paste between bytes
			}
			return r
		}, digits)
		b, err := hex.DecodeString(digits)
		if err != nil {
			var invalid hex.InvalidByteError
			switch {
			case errors.As(err, &invalid):
				return 0, nil, errors.New("hex: " + strconv.QuoteRune(rune(invalid)) + " is not a hex digit")
			case errors.Is(err, hex.ErrLength):
				return 0, nil, errors.New("hex: odd number of digits; each byte needs two")
			}
			return 0, nil, errors.New("hex: " + err.Error())
		}
		return websocket.MessageBinary, b, nil
	case ModeBase64:
		s := strings.Join(strings.Fields(input), "")
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return websocket.MessageBinary, b, nil
			}
		}
		return 0, nil, errors.New("base64: not valid standard or URL-safe base64")
	}
	return 0, nil, errors.New("unknown mode " + strconv.Quote(string(mode)))
}

// hexDigits are the digits of a byte in the log, lower case.
const hexDigits = "0123456789abcdef"

// preview returns a short, printable form of a frame for the log.
func preview(typ websocket.MessageType, data []byte) string {
	const maxRunes, maxBytes = 120, 24
	if typ == websocket.MessageText {
		s := string(data)
		if utf8.RuneCountInString(s) > maxRunes {
			return string([]rune(s)[:maxRunes]) + "…"
		}
		return s
	}
	shown := data[:min(len(data), maxBytes)]
	var b strings.Builder
	for i, c := range shown {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	if len(data) > maxBytes {
		b.WriteString(" …")
	}
	return b.String()
}
