package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"wsplay/shared"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEchoReturnsEachFrameUnchanged(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	c := ts.dial(t, "/ws/echo", nil)
	c.SetReadLimit(1 << 20) // echo returns what it is sent: past 32 KiB too

	frames := []struct {
		name string
		typ  websocket.MessageType
		data []byte
	}{
		{"text", websocket.MessageText, []byte("hello, wsplay")},
		{"empty text", websocket.MessageText, []byte{}},
		{"unicode text", websocket.MessageText, []byte("grüß dich, 世界 🚀")},
		{"binary", websocket.MessageBinary, []byte{0x00, 0xff, 0x10, 0x00}},
		{"binary that is not UTF-8", websocket.MessageBinary, []byte{0xc3, 0x28}},
		{"text at the read limit", websocket.MessageText, bytes.Repeat([]byte("a"), 64<<10)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Send them all first: echoes must come back in order.
	for _, f := range frames {
		require.NoError(t, c.Write(ctx, f.typ, f.data), f.name)
	}
	for _, f := range frames {
		typ, data, err := c.Read(ctx)
		require.NoError(t, err, f.name)
		assert.Equal(t, f.typ, typ, f.name)
		assert.True(t, bytes.Equal(f.data, data), "%s: payload changed", f.name)
	}
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

func TestEchoClosesWith1009OverTheReadLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	c := ts.dial(t, "/ws/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("a"), 64<<10+1)))
	code, _ := readClose(t, c)
	assert.Equal(t, websocket.StatusMessageTooBig, code)
	eventually(t, "the connection to be forgotten", func() bool { return ts.Gate().Len() == 0 })
}

func TestEchoReadLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.ReadLimit = 10
	ts := startServer(t, cfg)
	c := ts.dial(t, "/ws/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("0123456789")))
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(data))
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("0123456789!")))
	code, _ := readClose(t, c)
	assert.Equal(t, websocket.StatusMessageTooBig, code)
}

// gorilla's client, unlike coder's, sends text that is not UTF-8, which is
// what a broken or hostile client does.
func TestEchoClosesWith1007OnInvalidUTF8(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	canary := ts.dial(t, "/ws/echo", nil)

	c, _, err := gorilla.DefaultDialer.Dial(ts.wsURL("/ws/echo"), nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteMessage(gorilla.TextMessage, []byte("valid")))
	require.NoError(t, c.WriteMessage(gorilla.TextMessage, []byte{'o', 'k', 0xff, 0xfe}))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "valid", string(data))
	_, _, err = c.ReadMessage()
	var ce *gorilla.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, gorilla.CloseInvalidFramePayloadData, ce.Code)
	assert.Equal(t, shared.ReasonInvalidUTF8, ce.Text)

	// The server kept serving everyone else.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, canary.Write(ctx, websocket.MessageText, []byte("still here")))
	_, data, err = canary.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(data))
}

func TestEchoOriginPolicy(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.AllowedOrigins = []string{"https://wsplay.example"}
	ts := startServer(t, cfg)
	own := ts.URL // the page's own origin, http://127.0.0.1:port
	port := own[strings.LastIndex(own, ":")+1:]

	tests := []struct {
		origin string
		want   int
	}{
		{"", http.StatusSwitchingProtocols}, // not a browser
		{own, http.StatusSwitchingProtocols},
		{strings.ToUpper(own), http.StatusSwitchingProtocols},
		{"https://wsplay.example", http.StatusSwitchingProtocols},
		{"https://WSPLAY.example", http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
		{"https://wsplay.example.evil.example", http.StatusForbidden},
		{"http://wsplay.example", http.StatusForbidden}, // scheme differs from the allowed one
		{"http://127.0.0.1:1", http.StatusForbidden},    // localhost on another port
		{"http://localhost:" + port, http.StatusForbidden},
		{"not a url", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			c, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/echo"), &websocket.DialOptions{HTTPHeader: h})
			if c != nil {
				c.Close(websocket.StatusNormalClosure, "")
			}
			require.NotNil(t, resp, "dial error: %v", err)
			assert.Equal(t, tt.want, resp.StatusCode)
			if tt.want == http.StatusForbidden {
				body, _ := io.ReadAll(resp.Body)
				assert.Contains(t, string(body), "origin not allowed")
			}
		})
	}
}

func TestEchoRefusesWhatIsNotAWebSocketHandshake(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	handshake := func(h http.Header) http.Header {
		base := http.Header{
			"Connection":            {"Upgrade"},
			"Upgrade":               {"websocket"},
			"Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		}
		for k, v := range h {
			base[k] = v
		}
		return base
	}
	tests := []struct {
		name   string
		method string
		header http.Header
		status int
		body   string
	}{
		{"plain GET", http.MethodGet, nil, http.StatusBadRequest, "WebSocket endpoint"},
		{"POST", http.MethodPost, nil, http.StatusMethodNotAllowed, "use GET"},
		{"no Upgrade header", http.MethodGet, http.Header{"Connection": {"Upgrade"}}, http.StatusBadRequest, "WebSocket endpoint"},
		{"version 8", http.MethodGet, handshake(http.Header{"Sec-Websocket-Version": {"8"}}), http.StatusUpgradeRequired, "version 13"},
		{"missing key", http.MethodGet, handshake(http.Header{"Sec-Websocket-Key": {""}}), http.StatusBadRequest, "Sec-WebSocket-Key"},
		{"bad key", http.MethodGet, handshake(http.Header{"Sec-Websocket-Key": {"short"}}), http.StatusBadRequest, "Sec-WebSocket-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+"/ws/echo", nil)
			require.NoError(t, err)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Contains(t, strings.ToLower(string(body)), strings.ToLower(tt.body))
			if tt.status == http.StatusUpgradeRequired {
				assert.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"))
			}
		})
	}
	assert.Equal(t, 0, ts.Gate().Len(), "nothing registered")
}

func TestEchoDropsASilentClientAfterThePongDeadline(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.PingInterval = 50 * time.Millisecond
	cfg.Gate.Conn.PongWait = 200 * time.Millisecond
	ts := startServer(t, cfg)

	// A gorilla client answers pings only while it reads; this one never
	// reads, as a frozen or half-open peer would.
	c, _, err := gorilla.DefaultDialer.Dial(ts.wsURL("/ws/echo"), nil)
	require.NoError(t, err)
	defer c.Close()
	// Accepted counts up and stays: the connection itself lives only for
	// the pong wait, which a busy machine may let pass unobserved.
	eventually(t, "the connection to be accepted", func() bool { return endpointNow(ts, "echo").Accepted == 1 })
	eventually(t, "the silent client to be dropped", func() bool { return ts.Gate().Len() == 0 })
}

func TestEchoKeepsAClientThatAnswersPings(t *testing.T) {
	// Not parallel: it relies on pongs arriving within the pong wait.
	cfg := testConfig(t)
	// Generous against a loaded machine: a pong has three seconds to
	// arrive, and the test outlives that deadline.
	cfg.Gate.Conn.PingInterval = 200 * time.Millisecond
	cfg.Gate.Conn.PongWait = 3 * time.Second
	ts := startServer(t, cfg)
	c := ts.dial(t, "/ws/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// coder/websocket answers pings while a read is pending. Wait for many
	// pong deadlines, then check the connection still works.
	readErr := make(chan error, 1)
	var got []byte
	go func() {
		var err error
		_, got, err = c.Read(ctx)
		readErr <- err
	}()
	time.Sleep(4 * time.Second)
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("alive")))
	require.NoError(t, <-readErr)
	assert.Equal(t, "alive", string(got))
}

func TestShutdownClosesEveryClientWith1001(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	const n = 50
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = ts.dial(t, "/ws/echo", nil)
	}
	eventually(t, "every connection to be registered", func() bool { return ts.Gate().Len() == n })

	codes := make(chan websocket.StatusCode, n)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			code, _ := readClose(t, c)
			codes <- code
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, ts.Gate().Shutdown(ctx))
	took := time.Since(start)
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Equal(t, websocket.StatusGoingAway, code)
	}
	// Each client answers its own close frame; the server does not wait
	// for them one after another.
	assert.Less(t, took, 2*time.Second)

	// New handshakes are refused once shutdown has begun.
	_, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/echo"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
