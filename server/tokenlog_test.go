package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listenAddrIn waits for the JSON "listening" line in logs and returns
// its address.
func listenAddrIn(t *testing.T, logs func() string) string {
	t.Helper()
	var addr string
	eventually(t, "the server to log its address", func() bool {
		for line := range strings.Lines(logs()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr = rec.Addr
				return true
			}
		}
		return false
	})
	return addr
}

// FAULTS row 3: a handshake that carries its token in the query string,
// successful or refused for any reason, leaves the token in no log line
// (at debug level, including net/http's own error log) and in no response
// body; pages tell the browser not to send their URL on as a referrer.
func TestFault03_TokenInTheQueryIsNeverLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "debug", "-data", t.TempDir(),
		"-require-auth", "-jwt-secret", testJWTSecret, "-admin-token", testAdminToken, "-max-conns-per-user", "4"}
	runErr := make(chan error, 1)
	go func() { runErr <- run(ctx, args, func(string) string { return "" }, &logs) }()
	addr := listenAddrIn(t, logs.String)
	base, wsBase := "http://"+addr, "ws://"+addr

	good := goodToken(t, "ada")
	expired := signed(t, jwt.SigningMethodHS256, []byte(testJWTSecret), func() jwt.RegisteredClaims {
		c := claimsFor("ada")
		c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		return c
	}())
	secrets := map[string]string{"good token": good, "expired token": expired}
	var bodies []string

	dialCtx, dialCancel := context.WithTimeout(ctx, 10*time.Second)
	defer dialCancel()
	// Successful sessions on every endpoint, token in the query.
	chat, _, err := websocket.Dial(dialCtx, wsBase+"/ws/chat?room=general&username=x&token="+good, nil)
	require.NoError(t, err)
	defer chat.CloseNow()
	require.NoError(t, chat.Write(dialCtx, websocket.MessageText, []byte(`{"type":"text","content":"hello"}`)))
	for {
		_, data, err := chat.Read(dialCtx)
		require.NoError(t, err)
		if bytes.Contains(data, []byte(`"hello"`)) {
			break
		}
	}
	notes, _, err := websocket.Dial(dialCtx, wsBase+"/ws/notifications?user_id=x&token="+good, nil)
	require.NoError(t, err)
	defer notes.CloseNow()
	_, _, err = notes.Read(dialCtx) // synced
	require.NoError(t, err)
	echo, _, err := websocket.Dial(dialCtx, wsBase+"/ws/echo?token="+good, nil)
	require.NoError(t, err)
	defer echo.CloseNow()
	require.NoError(t, echo.Write(dialCtx, websocket.MessageText, []byte("hi")))
	_, _, err = echo.Read(dialCtx)
	require.NoError(t, err)

	// Refused handshakes, each carrying a token in the query: every reason
	// the server has to say no before the upgrade.
	upgrade := http.Header{}
	upgrade.Set("Connection", "Upgrade")
	upgrade.Set("Upgrade", "websocket")
	upgrade.Set("Sec-WebSocket-Version", "13")
	upgrade.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	with := func(h http.Header, k, v string) http.Header {
		h = h.Clone()
		h.Set(k, v)
		return h
	}
	refusals := []struct {
		name, method, path string
		header             http.Header
		want               int
	}{
		{"expired token", "GET", "/ws/chat?room=general&token=" + expired, upgrade, 401},
		{"expired token, echo", "GET", "/ws/echo?token=" + expired, upgrade, 401},
		{"expired token, notifications", "GET", "/ws/notifications?user_id=x&token=" + expired, upgrade, 401},
		{"foreign origin", "GET", "/ws/echo?token=" + good, with(upgrade, "Origin", "http://evil.example"), 403},
		{"version 8", "GET", "/ws/echo?token=" + good, with(upgrade, "Sec-WebSocket-Version", "8"), 426},
		{"plain GET", "GET", "/ws/chat?token=" + good, nil, 400},
		{"POST", "POST", "/ws/notifications?token=" + good, nil, 405},
		{"bad room", "GET", "/ws/chat?room=../x&token=" + good, upgrade, 400},
		{"bad since", "GET", "/ws/chat?since=x&token=" + good, upgrade, 400},
		{"no key", "GET", "/ws/echo?token=" + good, with(upgrade, "Sec-WebSocket-Key", ""), 400},
		{"page", "GET", "/?token=" + good, nil, 200},
		{"missing page", "GET", "/nope?token=" + good, nil, 404},
		{"api", "GET", "/api/notifications?user_id=x&token=" + good, nil, 401},
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tt := range refusals {
		req, err := http.NewRequestWithContext(dialCtx, tt.method, base+tt.path, nil)
		require.NoError(t, err)
		for k, v := range tt.header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		require.NoError(t, err, tt.name)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, tt.want, resp.StatusCode, "%s: %s", tt.name, b)
		bodies = append(bodies, string(b))
		if tt.name == "page" {
			assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), "the page's URL, token and all, is not sent on")
		}
	}
	// Past the per-user cap of 4: chat, notifications and two echoes.
	echo2, _, err := websocket.Dial(dialCtx, wsBase+"/ws/echo?token="+good, nil)
	require.NoError(t, err)
	defer echo2.CloseNow()
	status, body := rawRequest(t, addr, "GET /ws/echo?token="+good+" HTTP/1.1\r\nHost: "+addr+
		"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	assert.Equal(t, http.StatusTooManyRequests, status, "%s", body)
	bodies = append(bodies, body)
	// Requests net/http refuses itself, before any handler: a bad escape
	// and a request line over the header limit.
	for _, line := range []string{
		"GET /ws/echo?token=" + good + "&x=%zz HTTP/1.1",
		"GET /ws/echo?x=%zz&token=" + good + " HTTP/1.1",
		"GET /ws/echo?token=" + good + strings.Repeat("A", 20<<10) + " HTTP/1.1",
		"GET /ws/echo?token=" + good + " HTTP/9.9",
	} {
		status, body := rawRequest(t, addr, line+"\r\nHost: "+addr+"\r\n\r\n")
		assert.GreaterOrEqual(t, status, 400, "net/http refuses %.30q", line)
		bodies = append(bodies, body)
	}

	chat.Close(websocket.StatusNormalClosure, "")
	notes.Close(websocket.StatusNormalClosure, "")
	echo.Close(websocket.StatusNormalClosure, "")
	echo2.Close(websocket.StatusNormalClosure, "")
	cancel()
	select {
	case err := <-runErr:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}

	out := logs.String()
	require.Contains(t, out, `"msg":"handshake rejected"`, "the refusals were logged")
	require.Contains(t, out, `"reason":"bad token"`)
	for name, token := range secrets {
		parts := strings.Split(token, ".")
		for i, part := range parts[1:] { // the header part is the same for every HS256 token
			for line := range strings.Lines(out) {
				assert.NotContains(t, line, part, "%s, part %d, in a log line", name, i+2)
			}
			for _, b := range bodies {
				assert.NotContains(t, b, part, "%s in a response body", name)
			}
		}
	}
	if t.Failed() {
		t.Logf("server log:\n%s", out)
	}
}

// rawRequest writes req on a new connection to addr and returns the
// answer's status code and body.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer to %.40q", req)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
