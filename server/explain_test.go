package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// dialExplained dials path offering shared.SubprotocolExplain, as the
// page's client does, and returns how the refusal was explained: the
// close code and reason of a socket that was upgraded only to be closed.
func dialExplained(t *testing.T, ts *testServer, path string, h http.Header, protocols ...string) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, ts.wsURL(path), &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: append(protocols, shared.SubprotocolExplain),
	})
	require.NoError(t, err, "the refusal comes as a socket that closes")
	defer c.CloseNow()
	assert.Equal(t, shared.SubprotocolExplain, res.Header.Get("Sec-WebSocket-Protocol"))
	return readClose(t, c)
}

// A browser never sees a refused handshake's status or body, so a client
// that offers wsplay-explain gets the refusal as a close code (4000 + the
// status) and its message as the reason, while a client that does not
// gets the HTTP status as before; either way nothing is created. Host
// refusals (DNS rebinding) and handshakes that are not version 13 stay
// HTTP; a handshake that is admitted never confirms the subprotocol.
func TestRefusalsExplainedToClientsThatAsk(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.MaxConnsPerIP = 2
	ts := startServer(t, cfg)

	code, reason := dialExplained(t, ts, "/ws/chat?room=ghost&username="+strings.Repeat("x", 200), nil)
	assert.Equal(t, websocket.StatusCode(4400), code)
	assert.Contains(t, reason, "username")
	status, ok := shared.RefusalStatus(shared.CloseCode(code))
	assert.True(t, ok)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.False(t, shared.DescribeClose(shared.CloseCode(code)).Reconnect, "a bad name repeats: do not retry")

	code, reason = dialExplained(t, ts, "/ws/notifications?user_id=ghost", http.Header{"Origin": {"https://evil.example"}})
	assert.Equal(t, websocket.StatusCode(4403), code)
	assert.Contains(t, reason, "origin")

	// Without the offer: the HTTP status, as any WebSocket client expects.
	assert.Equal(t, http.StatusBadRequest, refusedHandshake(t, ts, "/ws/chat?room=ghost&username="+strings.Repeat("x", 200), false, nil))

	// Admitted: wsplay-batch where the endpoint batches, else wsplay,
	// never wsplay-explain (a browser fails a connection that confirms
	// none of what it offered).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var live []*websocket.Conn
	for _, c := range []struct{ path, want string }{
		{"/ws/echo", shared.SubprotocolPlain},
		{"/ws/notifications?user_id=ada", shared.SubprotocolBatch},
	} {
		conn, res, err := websocket.Dial(ctx, ts.wsURL(c.path), &websocket.DialOptions{
			Subprotocols: []string{shared.SubprotocolBatch, shared.SubprotocolPlain, shared.SubprotocolExplain}})
		require.NoError(t, err)
		defer conn.CloseNow()
		assert.Equal(t, c.want, res.Header.Get("Sec-WebSocket-Protocol"), c.path)
		live = append(live, conn)
	}
	eventually(t, "two connections registered", func() bool { return ts.Gate().Len() == 2 })

	// The third from this address is over its cap: 4429, which may be
	// retried later, with the cap in words.
	code, reason = dialExplained(t, ts, "/ws/echo", nil)
	assert.Equal(t, websocket.StatusCode(4429), code)
	assert.NotEmpty(t, reason)
	assert.LessOrEqual(t, len(reason), shared.MaxCloseReason)
	assert.True(t, shared.DescribeClose(shared.CloseCode(code)).Reconnect)
	assert.Equal(t, 2, ts.Gate().Len(), "an explained refusal registers nothing")

	// A host name the server does not answer to stays a plain 421.
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/ws/echo", nil)
	require.NoError(t, err)
	req.Host = "rebind.example"
	req.Header = http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Protocol": {shared.SubprotocolExplain}}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode)
	// Nor is a handshake of another version explained.
	assert.Equal(t, http.StatusUpgradeRequired, refusedHandshake(t, ts, "/ws/echo", false,
		http.Header{"Sec-Websocket-Protocol": {shared.SubprotocolExplain}, "Sec-Websocket-Version": {"8"}}))
	for _, c := range live {
		c.Close(websocket.StatusNormalClosure, "")
	}
}

func TestClipCloseReason(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := shared.ClipCloseReason(long)
	assert.LessOrEqual(t, len(got), shared.MaxCloseReason)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.Equal(t, "short", shared.ClipCloseReason("short"))
}
