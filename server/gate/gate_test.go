package gate_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "a test secret of at least 32 characters"

// endpoint is a server with one endpoint behind g: it counts how often
// its Check ran and was undone, and echoes the user each connection is
// for, then closes.
type endpoint struct {
	g       *gate.Gate
	m       *metrics.Metrics
	srv     *httptest.Server
	checks  atomic.Int64
	undone  atomic.Int64
	refuse  atomic.Pointer[gate.Refusal] // what Check answers; nil: admit
	started atomic.Int64                 // connections admitted
}

func newEndpoint(t *testing.T, cfg gate.Config) *endpoint {
	t.Helper()
	e := &endpoint{m: metrics.New()}
	g, err := gate.New(cfg, nil, e.m)
	require.NoError(t, err)
	e.g = g
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, user := g.Admit(w, r, gate.Endpoint{
			Name: "test", NameParam: "username",
			Check: func(*http.Request, string) (func(), *gate.Refusal) {
				e.checks.Add(1)
				if ref := e.refuse.Load(); ref != nil {
					return nil, ref
				}
				return func() { e.undone.Add(1) }, nil
			},
		})
		if c == nil {
			return
		}
		e.started.Add(1)
		c.Run(func(typ int, data []byte) error {
			if string(data) == "who" {
				c.Close(int(websocket.StatusNormalClosure), "you are "+user)
				return wsconn.ErrClosedByServer
			}
			return nil
		})
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, g.Shutdown(ctx))
		e.srv.Close()
	})
	return e
}

func (e *endpoint) url(query string) string {
	return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/?" + query
}

// dial returns the connection, or the refusal's status and body.
func (e *endpoint) dial(t *testing.T, query string, h http.Header) (*websocket.Conn, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, e.url(query), &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
		return c, http.StatusSwitchingProtocols, ""
	}
	require.NotNil(t, resp, "dial: %v", err)
	body, _ := io.ReadAll(resp.Body)
	return nil, resp.StatusCode, string(body)
}

func whoAmI(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("who")))
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	return strings.TrimPrefix(ce.Reason, "you are ")
}

func token(t *testing.T, user string) string {
	t.Helper()
	claims := jwt.RegisteredClaims{
		Issuer: gate.TokenIssuer, Audience: jwt.ClaimStrings{gate.TokenAudience}, Subject: user,
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

// The zero Config admits a handshake from no browser under the name it
// gives, and one without a name as anonymous.
func TestZeroConfigAdmits(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, gate.Config{})
	c, status, body := e.dial(t, "username=ada", nil)
	require.Equal(t, http.StatusSwitchingProtocols, status, body)
	assert.Equal(t, "ada", whoAmI(t, c))
	assert.Equal(t, int64(1), e.checks.Load())
	assert.Zero(t, e.undone.Load(), "an admitted handshake is not undone")
}

// Each step of the pipeline refuses with its status, and the steps come
// in order: a handshake wrong in several ways is refused for the first.
// Nothing after the refusing step runs: the endpoint's Check only when
// every step before it passed.
func TestPipelineOrder(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, gate.Config{RequireAuth: true, JWTSecret: secret, AllowedOrigins: []string{"https://ok.example"}})
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	good := "Bearer " + token(t, "ada")
	raw := func(method string, h http.Header) (int, string) {
		req, err := http.NewRequest(method, e.srv.URL+"/?username=ada", nil)
		require.NoError(t, err)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	upgrade := func(version string, extra ...string) http.Header {
		h := hdr(append([]string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", version}, extra...)...)
		return h
	}

	status, body := raw(http.MethodPost, hdr("Origin", "https://evil.example"))
	assert.Equal(t, http.StatusMethodNotAllowed, status, "method first")
	assert.Contains(t, body, "WebSocket endpoint")
	status, _ = raw(http.MethodGet, hdr("Origin", "https://evil.example"))
	assert.Equal(t, http.StatusBadRequest, status, "then the Upgrade headers")
	status, body = raw(http.MethodGet, upgrade("8", "Origin", "https://evil.example"))
	assert.Equal(t, http.StatusUpgradeRequired, status, "then the version")
	assert.Contains(t, body, "version 13")
	_, status, _ = e.dial(t, "username=ada", hdr("Origin", "https://evil.example"))
	assert.Equal(t, http.StatusForbidden, status, "then the origin, before credentials")
	_, status, body = e.dial(t, "username=ada", hdr("Origin", "https://ok.example"))
	assert.Equal(t, http.StatusUnauthorized, status, "then identity")
	assert.Equal(t, gate.UnauthorizedBody+"\n", body)
	_, status, body = e.dial(t, "username=ada", hdr("Authorization", "Bearer forged"))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, gate.UnauthorizedBody+"\n", body, "one body for every reason")
	assert.Zero(t, e.checks.Load(), "no refused step reached the endpoint's check")

	e.refuse.Store(gate.Refuse(http.StatusBadRequest, "bad room name", "bad room: no"))
	_, status, body = e.dial(t, "username=ada", hdr("Authorization", good, "Origin", "https://ok.example"))
	assert.Equal(t, http.StatusBadRequest, status, "then the endpoint's check")
	assert.Equal(t, "bad room: no\n", body)
	assert.Zero(t, e.started.Load())

	e.refuse.Store(nil)
	c, status, _ := e.dial(t, "username=mallory", hdr("Authorization", good))
	require.Equal(t, http.StatusSwitchingProtocols, status)
	assert.Equal(t, "ada", whoAmI(t, c), "the token names the user, not the query")

	r := e.m.Read().Rejected
	for _, reason := range []string{"not_a_websocket_handshake", "unsupported_websocket_version", "origin_not_allowed", "no_token", "bad_token", "bad_room_name"} {
		assert.Positive(t, r[reason], reason)
	}
}

// The caps are reservations: a refusal after them (the endpoint's check)
// gives its place back, and a connection that ends gives back its own.
func TestCapsAreReservations(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, gate.Config{MaxConnsPerUser: 1, JWTSecret: secret})
	as := func(user string) http.Header { return http.Header{"Authorization": {"Bearer " + token(t, user)}} }
	e.refuse.Store(gate.Refuse(http.StatusBadRequest, "bad room name", "no"))
	for range 3 {
		_, status, _ := e.dial(t, "", as("ada"))
		require.Equal(t, http.StatusBadRequest, status)
	}
	e.refuse.Store(nil)
	c, status, _ := e.dial(t, "", as("ada"))
	require.Equal(t, http.StatusSwitchingProtocols, status, "refused handshakes kept no place")
	_, status, body := e.dial(t, "", as("ada"))
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, body, "too many connections for this user (1): close some tabs", "the refusal says which limit and what to do")
	assert.Contains(t, body, "-max-conns-per-user")
	b, status, _ := e.dial(t, "", as("bob"))
	assert.Equal(t, http.StatusSwitchingProtocols, status, "the cap is per user")
	assert.Equal(t, "ada", whoAmI(t, c))
	assert.Equal(t, "bob", whoAmI(t, b))
	require.Eventually(t, func() bool { return e.g.Len() == 0 }, 10*time.Second, 10*time.Millisecond)
	_, status, _ = e.dial(t, "", as("ada"))
	assert.Equal(t, http.StatusSwitchingProtocols, status, "an ended connection gave its place back")

	// A name only claimed in the query is not capped: idle sockets under
	// ada's name do not lock ada out.
	for range 3 {
		_, status, _ = e.dial(t, "username=ada", nil)
		assert.Equal(t, http.StatusSwitchingProtocols, status)
	}
}

// Shutdown closes every connection with 1001 and refuses new handshakes
// with 503, before the endpoint's check.
func TestShutdown(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, gate.Config{})
	var conns []*websocket.Conn
	for range 5 {
		c, status, _ := e.dial(t, "username=ada", nil)
		require.Equal(t, http.StatusSwitchingProtocols, status)
		conns = append(conns, c)
	}
	require.Eventually(t, func() bool { return e.g.Len() == 5 }, 10*time.Second, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.g.Shutdown(ctx))
	for _, c := range conns {
		_, _, err := c.Read(ctx)
		assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err))
	}
	assert.True(t, e.g.Closing())
	checks := e.checks.Load()
	_, status, _ := e.dial(t, "username=ada", nil)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, checks, e.checks.Load())
}

// Config.Check refuses what New refuses, with the reason.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	assert.NoError(t, gate.Config{}.Check())
	err := gate.Config{AllowedOrigins: []string{"ftp://x"}, JWTSecret: "short"}.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `origin "ftp://x"`)
	assert.Contains(t, err.Error(), "at least 32 characters")
	_, err = gate.New(gate.Config{JWTSecret: "short"}, nil, nil)
	assert.Error(t, err)
}

// Guest login issues a token the gate accepts, and only when it is on.
func TestLogin(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		g, err := gate.New(gate.Config{GuestLogin: on}, nil, nil)
		require.NoError(t, err)
		srv := httptest.NewServer(g.LoginHandler())
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"username":"ada"}`))
		require.NoError(t, err)
		resp.Body.Close()
		if !on {
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		} else {
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var tok string
			for _, c := range resp.Cookies() {
				if c.Name == gate.TokenCookie {
					tok = c.Value
					assert.True(t, c.HttpOnly)
				}
			}
			user, err := g.VerifyToken(tok)
			require.NoError(t, err)
			assert.Equal(t, "ada", user)
		}
		resp, err = http.Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		srv.Close()
	}
}

// A handshake that passes every check and then fails in the upgrade (no
// Sec-WebSocket-Key) gives back what the endpoint's check reserved.
func TestFailedUpgradeUndoesTheCheck(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, gate.Config{})
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/?username=ada", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, int64(1), e.checks.Load())
	assert.Equal(t, int64(1), e.undone.Load(), "the check's reservation was given back")
	assert.Zero(t, e.started.Load())
	assert.Equal(t, uint64(1), e.m.Read().Rejected["bad_handshake"])
}

// The caps count an IPv6 client by its /64, which one host usually holds
// whole, and an IPv4 one by its address.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	for remote, want := range map[string]string{
		"192.0.2.7:1234":                 "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff:ffff::9]:80": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:80":           "2001:db8:1:3::/64",
		"[::1]:80":                       "::/64",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		assert.Equal(t, want, gate.ClientAddress(r), remote)
	}
}
