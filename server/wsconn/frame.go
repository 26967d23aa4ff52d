package wsconn

import (
	"encoding/binary"
	"errors"

	"github.com/gorilla/websocket"
)

// Frame is one message encoded once, as it goes on the wire: the frame
// header and the payload in one slice, ready for any number of
// connections to write as it is. A frame is never changed once made, so
// a broadcast shares one among all its recipients without a lock.
//
// Server frames are never masked (RFC 6455, section 5.1), so the bytes
// are the same for every client.
type Frame struct {
	wire []byte // header, then payload
	hdr  uint8  // header length: 2, 4 or 10
	op   uint8  // opcode: websocket.TextMessage, BinaryMessage, PingMessage or PongMessage
}

// NewFrame encodes data as a message of typ (websocket.TextMessage or
// websocket.BinaryMessage). It copies data: the caller may reuse it.
func NewFrame(typ int, data []byte) (*Frame, error) {
	if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
		return nil, errors.New("wsconn: a message frame is text or binary")
	}
	return newFrame(byte(typ), data), nil
}

// TextFrame encodes data as a text message. The caller must make sure it
// is valid UTF-8 (what shared.Encode returns is).
func TextFrame(data []byte) *Frame { return newFrame(websocket.TextMessage, data) }

// Size returns the frame's payload size in bytes: what the send queues
// count against their byte budget.
func (f *Frame) Size() int { return len(f.wire) - int(f.hdr) }

// payload returns the frame's payload.
func (f *Frame) payload() []byte { return f.wire[f.hdr:] }

// Payload returns the frame's payload, for a test or a log to read; it
// is shared by every recipient and must not be changed.
func (f *Frame) Payload() []byte { return f.payload() }

func newFrame(op byte, data []byte) *Frame {
	wire := appendHeader(make([]byte, 0, maxHeader+len(data)), op, len(data))
	hdr := len(wire)
	return &Frame{wire: append(wire, data...), hdr: uint8(hdr), op: op}
}

// maxHeader is the longest header of an unmasked frame.
const maxHeader = 10

// appendHeader appends the header of a final, unmasked frame of op with
// a payload of n bytes: 7-bit, 16-bit or 64-bit length.
func appendHeader(b []byte, op byte, n int) []byte {
	const fin = 0x80
	b = append(b, fin|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// pingFrame is the ping every connection sends each PingInterval.
var pingFrame = newFrame(websocket.PingMessage, nil)
