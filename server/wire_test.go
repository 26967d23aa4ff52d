package main

// Raw-frame tests: a hand-built handshake and hand-built frames over a
// loopback TCP socket, for what no WebSocket library will send. Each test
// is named after its row in FAULTS.md (TestFault07_... is row 7), keeps a
// healthy canary client connected to /ws/echo while the fault happens, and
// checks afterwards that the canary still gets its echo and that the
// server is back to the canary alone.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"wsplay/server/wsconn"
	"wsplay/shared"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Opcodes, RFC 6455 section 5.2.
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// RSV bits, as the rsv argument of frame takes them.
const (
	rsv1 byte = 4
	rsv2 byte = 2
	rsv3 byte = 1
)

// startWireServer is startServer (whose http.Server is the one run uses,
// with its header and idle timeouts) and its host:port.
func startWireServer(t *testing.T, cfg Config) (*testServer, string) {
	t.Helper()
	ts := startServer(t, cfg)
	return ts, ts.Addr
}

// expectSessions waits until the server has exactly n live connections.
func (ts *testServer) expectSessions(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d live connections", n), func() bool { return ts.Gate().Len() == n })
}

// canary is a healthy client on /ws/echo. A goroutine keeps a read pending,
// as a real client does, so coder/websocket answers the server's pings.
type canary struct {
	c    *websocket.Conn
	msgs chan string
	n    int
}

// startCanary connects a canary and waits until the server counts it.
func startCanary(t *testing.T, ts *testServer) *canary {
	t.Helper()
	cn := &canary{c: ts.dial(t, "/ws/echo", nil), msgs: make(chan string, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := cn.c.Read(context.Background())
			if err != nil {
				return
			}
			cn.msgs <- string(data)
		}
	}()
	t.Cleanup(func() {
		cn.c.CloseNow()
		<-done
	})
	ts.expectSessions(t, 1)
	return cn
}

// check sends the canary a new message and expects it back, next.
func (cn *canary) check(t *testing.T) {
	t.Helper()
	cn.n++
	msg := fmt.Sprintf("canary %d", cn.n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, cn.c.Write(ctx, websocket.MessageText, []byte(msg)), "canary write")
	select {
	case got := <-cn.msgs:
		require.Equal(t, msg, got, "canary echo")
	case <-ctx.Done():
		t.Fatal("the canary got no echo")
	}
}

// wireConn is a client socket driven by hand.
type wireConn struct {
	*net.TCPConn
	r    *bufio.Reader
	resp *http.Response // the answer to the handshake
}

// dialTCP opens a loopback TCP connection, closed when the test ends.
func dialTCP(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// handshakeRequest returns a WebSocket handshake request for path, with
// extra headers, and the Sec-WebSocket-Accept the server must answer.
func handshakeRequest(addr, path string, extra http.Header) (req []byte, accept string) {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	key := base64.StdEncoding.EncodeToString(nonce)
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	for k, vs := range extra {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return []byte(b.String()), base64.StdEncoding.EncodeToString(h[:])
}

// handshake upgrades a new TCP connection on path and checks the 101.
func handshake(t *testing.T, addr, path string, extra http.Header) *wireConn {
	t.Helper()
	c := dialTCP(t, addr)
	req, accept := handshakeRequest(addr, path, extra)
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Write(req)
	require.NoError(t, err)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, accept, resp.Header.Get("Sec-WebSocket-Accept"))
	require.NoError(t, c.SetDeadline(time.Time{}))
	return &wireConn{TCPConn: c, r: r, resp: resp}
}

// header returns a frame header that declares n payload bytes; when mask
// is set, key follows it as the masking key.
func header(fin bool, rsv, opcode byte, mask bool, n uint64, key [4]byte) []byte {
	b0 := rsv<<4 | opcode&0xf
	if fin {
		b0 |= 0x80
	}
	var m byte
	if mask {
		m = 0x80
	}
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= math.MaxUint16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if mask {
		b = append(b, key[:]...)
	}
	return b
}

// frame returns a whole frame. Clients must mask (mask true); the key is
// random, as RFC 6455 requires.
func frame(fin bool, rsv, opcode byte, mask bool, payload []byte) []byte {
	var key [4]byte
	rand.Read(key[:])
	b := header(fin, rsv, opcode, mask, uint64(len(payload)), key)
	for i, c := range payload {
		if mask {
			c ^= key[i%4]
		}
		b = append(b, c)
	}
	return b
}

// closePayload is the payload of a close frame.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// writeFrame sends one frame.
func (wc *wireConn) writeFrame(t *testing.T, fin bool, rsv, opcode byte, mask bool, payload []byte) {
	t.Helper()
	wc.write(t, frame(fin, rsv, opcode, mask, payload))
}

// write sends bytes as they are.
func (wc *wireConn) write(t *testing.T, b []byte) {
	t.Helper()
	require.NoError(t, wc.SetWriteDeadline(time.Now().Add(5*time.Second)))
	_, err := wc.Write(b)
	require.NoError(t, err)
}

// wireFrame is a frame from the server.
type wireFrame struct {
	fin     bool
	opcode  byte
	payload []byte
}

// readFrame reads one frame from the server, waiting up to 5 s. It checks
// what every server frame must be: unmasked, no RSV bits.
func (wc *wireConn) readFrame() (wireFrame, error) {
	if err := wc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return wireFrame{}, err
	}
	var h [2]byte
	if _, err := io.ReadFull(wc.r, h[:]); err != nil {
		return wireFrame{}, err
	}
	if h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return wireFrame{}, fmt.Errorf("server frame with RSV bits or a mask: % x", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(wc.r, b[:]); err != nil {
			return wireFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(wc.r, b[:]); err != nil {
			return wireFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		return wireFrame{}, fmt.Errorf("server frame of %d bytes", n)
	}
	f := wireFrame{fin: h[0]&0x80 != 0, opcode: h[0] & 0xf, payload: make([]byte, n)}
	_, err := io.ReadFull(wc.r, f.payload)
	return f, err
}

// expectFrame reads the next frame and checks its opcode and payload.
func (wc *wireConn) expectFrame(t *testing.T, opcode byte, payload []byte) {
	t.Helper()
	f, err := wc.readFrame()
	require.NoError(t, err)
	assert.True(t, f.fin, "FIN")
	assert.Equal(t, opcode, f.opcode, "opcode")
	assert.Equal(t, payload, f.payload)
}

// expectClose reads frames until a close frame, skipping pings, checks its
// code and returns its reason. Any data frame before it fails the test.
func (wc *wireConn) expectClose(t *testing.T, code uint16) string {
	t.Helper()
	for {
		f, err := wc.readFrame()
		require.NoError(t, err, "waiting for close %d", code)
		switch f.opcode {
		case opPing, opPong:
			continue
		case opClose:
			require.GreaterOrEqual(t, len(f.payload), 2, "close frame without a code")
			assert.Equal(t, code, binary.BigEndian.Uint16(f.payload), "close code (reason %q)", f.payload[2:])
			return string(f.payload[2:])
		default:
			t.Fatalf("got a frame with opcode %d, payload %q, before the close frame", f.opcode, f.payload)
		}
	}
}

// writeClose sends a close frame with code and does not hang up: after the
// close handshake, RFC 6455 section 7.1.1 leaves that to the server.
func (wc *wireConn) writeClose(t *testing.T, code uint16) {
	t.Helper()
	wc.writeFrame(t, true, 0, opClose, true, closePayload(code, ""))
}

// expectHangUp checks that the server sends nothing more and closes the
// connection within 5 s.
func (wc *wireConn) expectHangUp(t *testing.T) {
	t.Helper()
	f, err := wc.readFrame()
	require.Error(t, err, "expected the end of the connection, got a frame: opcode %d, payload %q", f.opcode, f.payload)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not hang up within 5 s")
	}
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "hang-up: %v", err)
}

// reset aborts c with a TCP RST instead of a FIN.
func reset(t *testing.T, c *net.TCPConn) {
	t.Helper()
	require.NoError(t, c.SetLinger(0))
	require.NoError(t, c.Close())
}

func TestFault06_OneByteOverLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.ReadLimit = 1000
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	at := []byte(strings.Repeat("a", 1000))
	over := []byte(strings.Repeat("a", 1001))

	t.Run("one frame", func(t *testing.T) {
		wc := handshake(t, addr, "/ws/echo", nil)
		wc.writeFrame(t, true, 0, opText, true, at)
		wc.expectFrame(t, opText, at)
		wc.writeFrame(t, true, 0, opText, true, over)
		// gorilla sends 1009 itself, with no reason, as soon as it reads
		// the header; the server sends nothing after it.
		assert.Empty(t, wc.expectClose(t, 1009))
		wc.writeClose(t, 1009)
		wc.expectHangUp(t)
	})
	t.Run("fragments", func(t *testing.T) {
		wc := handshake(t, addr, "/ws/echo", nil)
		wc.writeFrame(t, false, 0, opText, true, at[:500])
		wc.writeFrame(t, true, 0, opContinuation, true, at[500:])
		wc.expectFrame(t, opText, at)
		wc.writeFrame(t, false, 0, opText, true, over[:500])
		wc.writeFrame(t, true, 0, opContinuation, true, over[500:])
		assert.Empty(t, wc.expectClose(t, 1009))
		wc.writeClose(t, 1009)
		wc.expectHangUp(t)
	})
	cn.check(t)
	ts.expectSessions(t, 1)
}

// A frame header declares a huge payload, and the payload never comes. The
// limit is checked against the declared length before anything is read
// or allocated. Not parallel with other tests: it measures the process's
// heap, so only its own cases run meanwhile.
func TestFault06_DeclaredLengthOverLimit(t *testing.T) {
	ts, addr := startWireServer(t, testConfig(t)) // read limit 64 KiB
	cn := startCanary(t, ts)
	tests := []struct {
		name     string
		declared uint64
		reason   string
	}{
		{"limit plus one", 64<<10 + 1, ""},
		{"1 GiB", 1 << 30, ""},
		{"2^62", 1 << 62, ""},
		// The most significant bit must be 0 (RFC 6455 section 5.2); gorilla
		// reports it as over the limit without a close frame, and the
		// server sends 1009 itself.
		{"2^63", 1 << 63, shared.ReasonTooBig},
		{"2^64-1", math.MaxUint64, shared.ReasonTooBig},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				wc := handshake(t, addr, "/ws/echo", nil)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)

				wc.write(t, header(true, 0, opText, true, tt.declared, [4]byte{1, 2, 3, 4}))
				// Then nothing: the client stalls. The 1009 comes at once, not
				// after a read timeout (the pong wait is 60 s).
				assert.Equal(t, tt.reason, wc.expectClose(t, 1009))

				runtime.ReadMemStats(&after)
				heapGrowth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
				allocated := after.TotalAlloc - before.TotalAlloc
				t.Logf("declared %d bytes: heap grew %d bytes, %d bytes allocated in all", tt.declared, heapGrowth, allocated)
				assert.Less(t, heapGrowth, int64(4<<20))
				assert.Less(t, allocated, uint64(4<<20))

				wc.writeClose(t, 1009)
				wc.expectHangUp(t)
			})
		}
	})
	cn.check(t)
	ts.expectSessions(t, 1)
}

// Thousands of one-byte continuation frames add up to the limit; one more
// byte passes it.
func TestFault06_TinyContinuationFramesPastLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.ReadLimit = 4096
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", nil)

	var b []byte
	b = append(b, frame(false, 0, opText, true, []byte("a"))...)
	for range cfg.Gate.Conn.ReadLimit - 1 {
		b = append(b, frame(false, 0, opContinuation, true, []byte("a"))...)
	}
	wc.write(t, b)
	// A ping between fragments is allowed, and its pong shows the server
	// has read every fragment before it without closing.
	wc.writeFrame(t, true, 0, opPing, true, []byte("at the limit"))
	wc.expectFrame(t, opPong, []byte("at the limit"))

	wc.writeFrame(t, false, 0, opContinuation, true, []byte("a"))
	assert.Empty(t, wc.expectClose(t, 1009))
	wc.writeClose(t, 1009)
	wc.expectHangUp(t)
	cn.check(t)
	ts.expectSessions(t, 1)
}

// Frame-level violations get 1002 from gorilla, with its reason; the server
// sends no second close frame and hangs up.
func TestFault07_ProtocolViolations(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	tests := []struct {
		name   string
		frames [][]byte
		reason string // gorilla's
	}{
		{"unmasked client frame", [][]byte{frame(true, 0, opText, false, []byte("hi"))}, "bad MASK"},
		{"RSV1", [][]byte{frame(true, rsv1, opText, true, []byte("hi"))}, "RSV1 set"},
		{"RSV2", [][]byte{frame(true, rsv2, opText, true, []byte("hi"))}, "RSV2 set"},
		{"RSV3", [][]byte{frame(true, rsv3, opBinary, true, []byte("hi"))}, "RSV3 set"},
		{"reserved data opcode 3", [][]byte{frame(true, 0, 0x3, true, []byte("hi"))}, "bad opcode 3"},
		{"reserved control opcode 0xB", [][]byte{frame(true, 0, 0xB, true, nil)}, "bad opcode 11"},
		{"ping of 126 bytes", [][]byte{frame(true, 0, opPing, true, make([]byte, 126))}, "len > 125 for control"},
		{"close of 126 bytes", [][]byte{frame(true, 0, opClose, true, closePayload(1000, strings.Repeat("x", 124)))}, "len > 125 for control"},
		{"fragmented ping", [][]byte{frame(false, 0, opPing, true, []byte("p"))}, "FIN not set on control"},
		{"continuation with no start", [][]byte{frame(true, 0, opContinuation, true, []byte("x"))}, "continuation after FIN"},
		{"new message inside a fragmented one", [][]byte{
			frame(false, 0, opText, true, []byte("a")),
			frame(true, 0, opText, true, []byte("b")),
		}, "data before FIN"},
		{"close code 1005, which must not be sent", [][]byte{frame(true, 0, opClose, true, closePayload(1005, ""))}, "bad close code 1005"},
		{"close code 999", [][]byte{frame(true, 0, opClose, true, closePayload(999, ""))}, "bad close code 999"},
		{"close reason not UTF-8", [][]byte{frame(true, 0, opClose, true, closePayload(1000, "\xff"))}, "invalid utf8 payload in close frame"},
		{"several at once", [][]byte{frame(true, rsv1, 0x3, false, nil)}, "RSV1 set, bad opcode 3, bad MASK"},
	}
	// The group returns once every parallel case has.
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				wc := handshake(t, addr, "/ws/echo", nil)
				wc.writeFrame(t, true, 0, opText, true, []byte("before"))
				wc.expectFrame(t, opText, []byte("before"))
				for _, f := range tt.frames {
					wc.write(t, f)
				}
				assert.Equal(t, tt.reason, wc.expectClose(t, 1002))
				wc.writeClose(t, 1002)
				wc.expectHangUp(t)
			})
		}
	})
	cn.check(t)
	ts.expectSessions(t, 1)
}

// gorilla does not check that text is UTF-8; the server does, on the whole
// message, so a character split across fragments is fine.
func TestFault08_InvalidUTF8(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	tests := []struct {
		name      string
		fragments []string
		valid     bool
	}{
		{"one frame", []string{"ok\xff\xfe"}, false},
		{"a lone continuation byte", []string{"\x80"}, false},
		{"overlong slash", []string{"\xc0\xaf"}, false},
		{"UTF-16 surrogate half", []string{"\xed\xa0\x80"}, false},
		{"beyond U+10FFFF", []string{"\xf4\x90\x80\x80"}, false},
		// Each fragment alone could be the start or the end of valid text.
		{"split: a start byte, then ASCII", []string{"ok\xc3", "("}, false},
		{"split: a truncated character at the very end", []string{"ok", "\xe2\x82"}, false},
		{"split: a valid character across fragments", []string{"gr\xc3", "\xbc\xc3\x9f"}, true},
		{"split: a 4-byte character one byte per fragment", []string{"\xf0", "\x9f", "\x9a", "\x80"}, true},
	}
	// The group returns once every parallel case has.
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				wc := handshake(t, addr, "/ws/echo", nil)
				var whole string
				for i, f := range tt.fragments {
					op := opContinuation
					if i == 0 {
						op = opText
					}
					wc.writeFrame(t, i == len(tt.fragments)-1, 0, op, true, []byte(f))
					whole += f
				}
				if tt.valid {
					wc.expectFrame(t, opText, []byte(whole))
					wc.writeClose(t, 1000)
					wc.expectClose(t, 1000)
					return
				}
				assert.Equal(t, shared.ReasonInvalidUTF8, wc.expectClose(t, 1007))
				wc.writeClose(t, 1007)
				wc.expectHangUp(t)
			})
		}
	})
	cn.check(t)
	ts.expectSessions(t, 1)
}

// After a close the server decided on, a peer that answers it and waits
// for the server to end the TCP connection, as RFC 6455 section 7.1.1 asks
// (browsers do), is hung up on at once, not after CloseGrace.
func TestFault08_HangUpAsSoonAsThePeerAnswersTheClose(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.CloseGrace = time.Minute // expectHangUp waits 5 s
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", nil)
	wc.writeFrame(t, true, 0, opText, true, []byte("\xff"))
	assert.Equal(t, shared.ReasonInvalidUTF8, wc.expectClose(t, 1007))
	wc.writeClose(t, 1007)
	wc.expectHangUp(t)
	cn.check(t)
	ts.expectSessions(t, 1)
}

// Binary frames are fine on echo: they come back as binary. (Row 10's
// close 1003 is for text endpoints.)
func TestFault10_BinaryIsEchoed(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", nil)
	bin := []byte{0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80}
	wc.writeFrame(t, true, 0, opBinary, true, bin)
	wc.expectFrame(t, opBinary, bin)
	// Fragments come back as one frame.
	wc.writeFrame(t, false, 0, opBinary, true, bin[:3])
	wc.writeFrame(t, true, 0, opContinuation, true, bin[3:])
	wc.expectFrame(t, opBinary, bin)
	wc.writeFrame(t, true, 0, opBinary, true, nil)
	wc.expectFrame(t, opBinary, []byte{})
	wc.writeClose(t, 1000)
	wc.expectClose(t, 1000)
	cn.check(t)
	ts.expectSessions(t, 1)
}

func TestFault12_PermessageDeflateNotNegotiated(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", http.Header{
		"Sec-WebSocket-Extensions": {"permessage-deflate; client_max_window_bits, permessage-deflate"},
	})
	assert.Empty(t, wc.resp.Header.Values("Sec-WebSocket-Extensions"))
	// So a compressed frame (RSV1) is a protocol error.
	wc.writeFrame(t, true, rsv1, opText, true, []byte{0xf2, 0x48, 0x05, 0x00})
	assert.Equal(t, "RSV1 set", wc.expectClose(t, 1002))
	wc.writeClose(t, 1002)
	wc.expectHangUp(t)

	// The same with a real client that asks for compression.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/echo"), &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	require.NoError(t, err)
	defer c.CloseNow()
	assert.Empty(t, resp.Header.Values("Sec-WebSocket-Extensions"))
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("compressible ", 100))))
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("compressible ", 100), string(data))
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))

	cn.check(t)
	ts.expectSessions(t, 1)
}

// A client sends its handshake one byte every 100 ms. The header timeout
// drops it long before it is done.
func TestFault05_DribbledHeadersDropped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.ReadHeaderTimeout = 300 * time.Millisecond
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)

	c := dialTCP(t, addr)
	req, _ := handshakeRequest(addr, "/ws/echo", nil)
	type answer struct {
		data []byte
		err  error
	}
	hungUp := make(chan answer, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(time.Duration(len(req)) * 100 * time.Millisecond))
		data, err := io.ReadAll(c)
		hungUp <- answer{data, err}
	}()
	sent := 0
	var got answer
dribble:
	for _, b := range req {
		select {
		case got = <-hungUp:
			break dribble
		case <-time.After(100 * time.Millisecond): // the attack's pace, not a wait for the server
		}
		if _, err := c.Write([]byte{b}); err != nil {
			got = <-hungUp // the server is gone: a reset answers the write
			break
		}
		sent++
	}
	t.Logf("the server hung up after %d of %d bytes, answering %q", sent, len(req), got.data)
	// A byte that arrives as the server closes makes its kernel reset the
	// connection; either way it is gone.
	if got.err != nil {
		require.ErrorIs(t, got.err, syscall.ECONNRESET, "the server closes the connection")
	}
	assert.Less(t, sent, len(req), "the dribbler sent its whole handshake")
	// net/http answers a half-read request line with 400, and says
	// nothing when the line was not started.
	assert.NotContains(t, string(got.data), "101")

	cn.check(t)
	ts.expectSessions(t, 1)
}

// A TCP connection that never sends a byte is dropped by the same timeout.
func TestFault05_SilentTCPConnectionDropped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.ReadHeaderTimeout = 300 * time.Millisecond
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	c := dialTCP(t, addr)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	cn.check(t)
	ts.expectSessions(t, 1)
}

// After one request, a keep-alive connection that goes quiet is closed
// after the idle timeout. (Without one, net/http waits for the next
// request for ever.)
func TestFault05_IdleKeepAliveDropped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.IdleTimeout = 300 * time.Millisecond
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	c := dialTCP(t, addr)
	_, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	require.NoError(t, err)
	r := bufio.NewReader(c)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.False(t, resp.Close, "the connection is kept alive")

	_, err = r.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the idle connection was not closed within 5 s")
	}
	assert.ErrorIs(t, err, io.EOF)
	cn.check(t)
	ts.expectSessions(t, 1)
}

// An upgraded socket that goes completely silent, answering no ping, is
// closed after the pong deadline, without a close frame: no one is there
// to read it.
func TestFault05_SilentWebSocketDropped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// The canary must answer in time on a busy machine, next to other
	// tests: the pong wait is generous, and the test outlives it.
	cfg.Gate.Conn.PingInterval = 500 * time.Millisecond
	cfg.Gate.Conn.PongWait = 3 * time.Second
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", nil)
	eventually(t, "both accepted", func() bool { return endpointNow(ts, "echo").Accepted == 2 })
	pings := 0
	for {
		f, err := wc.readFrame()
		if err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the silent socket was not closed")
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "%v", err)
			break
		}
		require.Equal(t, opPing, f.opcode, "only pings reach a silent client")
		pings++
		require.Less(t, pings, 100, "pinged for ever")
	}
	assert.Positive(t, pings)
	ts.expectSessions(t, 1)
	cn.check(t) // the canary answered its pings all along
}

func TestFault18_ResetMidHandshake(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	req, _ := handshakeRequest(addr, "/ws/echo", nil)

	t.Run("in the headers", func(t *testing.T) {
		c := dialTCP(t, addr)
		_, err := c.Write(req[:len(req)/2])
		require.NoError(t, err)
		reset(t, c)
	})
	t.Run("before metrics.Reading the 101", func(t *testing.T) {
		for range 20 {
			c := dialTCP(t, addr)
			_, err := c.Write(req)
			require.NoError(t, err)
			reset(t, c)
		}
	})
	cn.check(t)
	ts.expectSessions(t, 1)
}

func TestFault18_ResetMidFrame(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	for _, cut := range []int{1, 2, 6, 10} { // in the header, in the mask key, in the payload
		t.Run(fmt.Sprintf("after %d bytes", cut), func(t *testing.T) {
			wc := handshake(t, addr, "/ws/echo", nil)
			ts.expectSessions(t, 2)
			wc.write(t, frame(true, 0, opText, true, []byte("a message cut short"))[:cut])
			reset(t, wc.TCPConn)
			ts.expectSessions(t, 1)
		})
	}
	cn.check(t)
}

// The client stops reading while it makes the server echo far more than
// the socket buffers hold, so the server is stuck in a write when the
// reset comes. The reset, not the write timeout, ends that connection.
func TestFault18_ResetWhileServerWrites(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.WriteWait = time.Minute // longer than the test waits
	cfg.Gate.Conn.SendQueue = 4
	ts, addr := startWireServer(t, cfg)
	cn := startCanary(t, ts)
	wc := handshake(t, addr, "/ws/echo", nil)
	require.NoError(t, wc.SetReadBuffer(4<<10))
	ts.expectSessions(t, 2)
	var stuck *wsconn.Conn
	for c := range ts.sessionsSnapshot() {
		if c.RemoteAddr().String() == wc.LocalAddr().String() {
			stuck = c
		}
	}
	require.NotNil(t, stuck)

	// Write from a goroutine: once the server is stuck writing it stops
	// reading, and so would this test.
	msg := frame(true, 0, opBinary, true, make([]byte, 60<<10))
	var written atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range 1000 { // 60 MB at most; the server gives up reading far sooner
			if _, err := wc.Write(msg); err != nil {
				return
			}
			written.Add(1)
		}
	}()
	// The echo answers on the reader's goroutine: once an answer cannot
	// be written, the server stops reading, and the client's writes stop
	// too, with the answer still in flight.
	eventually(t, "the server to be stuck writing", func() bool {
		before := written.Load()
		time.Sleep(300 * time.Millisecond)
		inFlight, _ := stuck.Queued()
		return before > 0 && written.Load() == before && inFlight > 0
	})
	t.Logf("stuck after %d messages of 60 KiB", written.Load())
	reset(t, wc.TCPConn)
	<-writerDone
	ts.expectSessions(t, 1)
	cn.check(t)
}

// sessionsSnapshot returns the live connections.
func (ts *testServer) sessionsSnapshot() map[*wsconn.Conn]struct{} {
	m := map[*wsconn.Conn]struct{}{}
	for _, c := range ts.Gate().Conns() {
		m[c] = struct{}{}
	}
	return m
}

// A reset after the upgrade with nothing in flight: the read fails at
// once and the connection is forgotten.
func TestFault18_ResetWhenIdle(t *testing.T) {
	t.Parallel()
	ts, addr := startWireServer(t, testConfig(t))
	cn := startCanary(t, ts)
	for range 20 {
		wc := handshake(t, addr, "/ws/echo", nil)
		wc.writeFrame(t, true, 0, opText, true, []byte("hi"))
		wc.expectFrame(t, opText, []byte("hi"))
		reset(t, wc.TCPConn)
	}
	ts.expectSessions(t, 1)
	cn.check(t)
}
