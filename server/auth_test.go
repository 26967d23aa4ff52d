package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/gate"
	"wsplay/server/notify"
	"wsplay/server/servertest"
	"wsplay/shared"
)

// testJWTSecret signs the tokens of authConfig's servers.
const testJWTSecret = "test-jwt-secret-0123456789abcdef0123"

// authConfig is notifyConfig with -require-auth and a known secret.
func authConfig(t *testing.T) Config {
	t.Helper()
	cfg := notifyConfig(t)
	cfg.Gate.RequireAuth = true
	cfg.Gate.JWTSecret = testJWTSecret
	return cfg
}

// claimsFor returns the claims of a good token for user.
func claimsFor(user string) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{
		Issuer: gate.TokenIssuer, Audience: jwt.ClaimStrings{gate.TokenAudience}, Subject: user,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}
}

// signed signs claims with method and key.
func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

// goodToken is a token the server accepts for user.
func goodToken(t *testing.T, user string) string {
	t.Helper()
	return signed(t, jwt.SigningMethodHS256, []byte(testJWTSecret), claimsFor(user))
}

// handcrafted builds a token from a header and claims as JSON with the
// given signature, as a forger would.
func handcrafted(t *testing.T, header map[string]any, claims jwt.Claims, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + sig
}

// badTokens are the credentials FAULTS row 2 lists, and their relatives.
// Each must get the same 401.
func badTokens(t *testing.T) map[string]string {
	t.Helper()
	key := []byte(testJWTSecret)
	with := func(change func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := claimsFor("ada")
		change(&c)
		return c
	}
	good := goodToken(t, "ada")
	return map[string]string{
		"garbage":        "not-a-token",
		"three dots":     "a.b.c",
		"empty bearer":   "",
		"expired":        signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) })),
		"no exp":         signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })),
		"not yet valid":  signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) })),
		"alg none":       signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsFor("ada")),
		"alg NONE":       handcrafted(t, map[string]any{"alg": "NONE", "typ": "JWT"}, claimsFor("ada"), ""),
		"HS384":          signed(t, jwt.SigningMethodHS384, key, claimsFor("ada")),
		"RS256":          handcrafted(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claimsFor("ada"), strings.Repeat("A", 342)),
		"wrong secret":   signed(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef0123"), claimsFor("ada")),
		"wrong issuer":   signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Issuer = "evil" })),
		"no issuer":      signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Issuer = "" })),
		"wrong audience": signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other-app"} })),
		"no audience":    signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Audience = nil })),
		"bad subject":    signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Subject = "../../x" })),
		"no subject":     signed(t, jwt.SigningMethodHS256, key, with(func(c *jwt.RegisteredClaims) { c.Subject = "" })),
		"tampered":       good[:len(good)-4] + "AAAA",
		// Over gate.MaxTokenLen, under the server's header limit: refused
		// unread, with the same 401.
		"5 KB": good + strings.Repeat("A", 5<<10),
	}
}

// tokenSources put a token into a handshake request the three ways the
// server accepts one.
var tokenSources = map[string]func(r *http.Request, token string){
	"header": func(r *http.Request, token string) { r.Header.Set("Authorization", "Bearer "+token) },
	"query": func(r *http.Request, token string) {
		q := r.URL.Query()
		q.Set("token", token)
		r.URL.RawQuery = q.Encode()
	},
	"cookie": func(r *http.Request, token string) { r.Header.Set("Cookie", gate.TokenCookie+"="+token) },
}

// authEndpoints are the WebSocket endpoints, each with the name a
// tutorial client would claim in the query.
var authEndpoints = []string{
	"/ws/echo",
	"/ws/dashboard",
	"/ws/chat?room=general&username=ada",
	"/ws/notifications?user_id=ada",
}

// rawHandshake sends a WebSocket handshake for path on a connection of its
// own (so that nothing of it outlives the call) after set has changed the
// request, and returns the response with its body read.
func (ts *testServer) rawHandshake(t *testing.T, path string, set func(*http.Request)) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if set != nil {
		set(req)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, ""
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// FAULTS row 2: every bad credential, from every source, on every
// endpoint, gets the same 401 before the upgrade, and nothing is started
// for it: no session, no room, no subscription, no goroutine. A bad token
// is refused even where a token is optional: it is never ignored in favour
// of the name in the query.
//
// Not parallel, so that goleak can compare the goroutines before and after
// with no other test running.
func TestFault02_BadCredentialsGet401BeforeTheUpgrade(t *testing.T) {
	required := startServer(t, authConfig(t))
	optional := func() *testServer {
		cfg := authConfig(t)
		cfg.Gate.RequireAuth = false
		return startServer(t, cfg)
	}()
	tokens := badTokens(t)
	baseline := goleak.IgnoreCurrent()

	expect401 := func(t *testing.T, ts *testServer, path string, set func(*http.Request)) {
		t.Helper()
		resp, body := ts.rawHandshake(t, path, set)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
		assert.Equal(t, gate.UnauthorizedBody+"\n", body, "one body for every refusal")
		assert.Equal(t, `Bearer realm="wsplay"`, resp.Header.Get("WWW-Authenticate"))
		assert.Empty(t, resp.Header.Get("Upgrade"))
		assert.Empty(t, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	for _, path := range authEndpoints {
		t.Run(path+"/none", func(t *testing.T) {
			expect401(t, required, path, nil)
			expect401(t, required, path, func(r *http.Request) { r.Header.Set("Authorization", "Basic YWRhOmFkYQ==") })
		})
		for name, token := range tokens {
			for source, set := range tokenSources {
				t.Run(path+"/"+name+"/"+source, func(t *testing.T) {
					if name == "empty bearer" && source != "header" {
						t.Skip("an empty query parameter or cookie is no token at all")
					}
					with := func(r *http.Request) { set(r, token) }
					expect401(t, required, path, with)
					expect401(t, optional, path, with)
				})
			}
		}
	}

	// A 100 KB token does not fit the server's request headers: refused
	// before anything looks at it, by net/http, with 431.
	for _, path := range authEndpoints {
		for source, set := range tokenSources {
			resp, _ := required.rawHandshake(t, path, func(r *http.Request) { set(r, goodToken(t, "ada")+strings.Repeat("A", 100<<10)) })
			assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "%s %s", path, source)
		}
	}

	for _, ts := range []*testServer{required, optional} {
		assert.Zero(t, ts.Gate().Len(), "sessions")
		assert.Zero(t, ts.Chat().RoomCount(), "rooms started")
		assert.Zero(t, ts.memoryBroker().Subscribers(notify.Key("ada")), "notification subscribers")
	}
	assert.NoError(t, servertest.FindLeaks(baseline))

	// The control: a good token gets through all three endpoints.
	for _, path := range authEndpoints {
		for source, set := range tokenSources {
			resp, body := required.rawHandshake(t, path, func(r *http.Request) { set(r, goodToken(t, "ada")) })
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "%s %s: %s", path, source, body)
		}
	}
	eventually(t, "the control connections to end", func() bool { return required.Gate().Len() == 0 })
}

// chatIdentity joins a chat room at path with opts and returns the name
// the server gave the connection, from the join it announces.
func (ts *testServer) chatIdentity(t *testing.T, path string, opts *websocket.DialOptions) string {
	t.Helper()
	c := ts.joinChatAt(t, path, opts)
	m := c.expect(shared.TypeJoin)
	c.conn.Close(websocket.StatusNormalClosure, "")
	return m.Username
}

func bearer(token string) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}}
}

// With a token, the identity is its subject: the username and user_id of
// the tutorial's query are ignored, and whatever a message claims too.
func TestFault02_TokenDecidesTheIdentity(t *testing.T) {
	t.Parallel()
	ts := startServer(t, authConfig(t))
	ada := goodToken(t, "ada")

	c := ts.joinChatAt(t, chatQuery("ids", "mallory"), bearer(ada))
	assert.Equal(t, "ada", c.expect(shared.TypeJoin).Username)
	_, users := c.joined()
	assert.Equal(t, []string{"ada"}, users.Users)
	c.send(shared.Message{Type: shared.TypeText, Username: "mallory", Content: "who am I?"})
	assert.Equal(t, "ada", c.expect(shared.TypeText).Username)

	// A token for ada cannot read bob's notifications: asking for bob's
	// gets ada's.
	adas := ts.sendNote(t, "ada", "for ada")
	bobs := ts.sendNote(t, "bob", "for bob")
	tab := ts.openTabAt(t, notifyQuery("bob"), bearer(ada))
	backlog, synced := tab.synced()
	require.Len(t, backlog, 1)
	assert.Equal(t, adas.ID, backlog[0].ID)
	assert.Equal(t, []string{adas.ID}, synced.IDs)
	// Nor mark them read.
	tab.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: bobs.ID})
	assert.Equal(t, shared.CodeForbidden, tab.expect(shared.NotifyError).Code)
	// Live ones for bob do not reach it either; ada's do.
	ts.sendNote(t, "bob", "bob again")
	next := ts.sendNote(t, "ada", "ada again")
	assert.Equal(t, next.ID, tab.notification().ID)
	// A poke's sender is the token's subject.
	tab.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "bob"})
	tab.expect(shared.NotifyPoked)
	list := ts.list(t, "bob", false)
	require.Len(t, list, 3)
	assert.Equal(t, "ada", list[2].From)
}

// A token is taken from the Authorization header, the token query
// parameter or the login cookie, in that order: the first one present
// decides, even when it is bad (no fallback to a weaker source).
func TestFault02_TokenSourcesAndPrecedence(t *testing.T) {
	t.Parallel()
	ts := startServer(t, authConfig(t))
	ada, bob, cy := goodToken(t, "ada"), goodToken(t, "bob"), goodToken(t, "cy")
	cookie := func(token string) string { return gate.TokenCookie + "=" + token }
	withQuery := func(room, token string) string {
		return chatQuery(room, "nobody", "token", token)
	}
	tests := []struct {
		name   string
		path   string
		header http.Header
		want   string // "" for a 401
	}{
		{name: "header", path: chatQuery("s1", "nobody"), header: http.Header{"Authorization": {"Bearer " + ada}}, want: "ada"},
		{name: "query", path: withQuery("s2", bob), want: "bob"},
		{name: "cookie", path: chatQuery("s3", "nobody"), header: http.Header{"Cookie": {cookie(cy)}}, want: "cy"},
		{name: "header over query", path: withQuery("s4", bob), header: http.Header{"Authorization": {"Bearer " + ada}}, want: "ada"},
		{name: "header over cookie", path: chatQuery("s5", "nobody"), header: http.Header{"Authorization": {"Bearer " + ada}, "Cookie": {cookie(cy)}}, want: "ada"},
		{name: "query over cookie", path: withQuery("s6", bob), header: http.Header{"Cookie": {cookie(cy)}}, want: "bob"},
		{name: "bad header, good query", path: withQuery("s7", bob), header: http.Header{"Authorization": {"Bearer nope"}}},
		{name: "bad query, good cookie", path: withQuery("s8", "nope"), header: http.Header{"Cookie": {cookie(cy)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want != "" {
				assert.Equal(t, tt.want, ts.chatIdentity(t, tt.path, &websocket.DialOptions{HTTPHeader: tt.header}))
				return
			}
			resp, body := ts.rawHandshake(t, tt.path, func(r *http.Request) {
				for k, v := range tt.header {
					r.Header[k] = v
				}
			})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
		})
	}

	// Echo and notifications take the same sources.
	for source, set := range tokenSources {
		resp, body := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { set(r, ada) })
		assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "echo, token in the %s: %s", source, body)
	}
	echo := ts.dial(t, "/ws/echo", bearer(ada))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, echo.Write(ctx, websocket.MessageText, []byte("hi")))
	_, got, err := echo.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	echo.Close(websocket.StatusNormalClosure, "")
}

// With -require-auth the room list needs a token too.
func TestFault02_RoomListNeedsATokenWhenAuthIsRequired(t *testing.T) {
	t.Parallel()
	ts := startServer(t, authConfig(t))
	status, body := ts.api(t, http.MethodGet, "/api/rooms", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, shared.CodeUnauthorized, apiErrorOf(t, body).Code)
	status, _ = ts.api(t, http.MethodGet, "/api/rooms", "forged", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body = ts.api(t, http.MethodGet, "/api/rooms", goodToken(t, "ada"), nil)
	assert.Equal(t, http.StatusOK, status, "%s", body)

	open := startServer(t, notifyConfig(t))
	status, _ = open.api(t, http.MethodGet, "/api/rooms", "", nil)
	assert.Equal(t, http.StatusOK, status, "the playground lists rooms to anyone")
}

// login posts body to /api/login and returns the response with its body.
func (ts *testServer) login(t *testing.T, body string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/login", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// POST /api/login: a guest token for a valid name, in the body and in an
// HttpOnly, SameSite=Strict cookie; a JSON error for anything else; 404
// when guest login is off.
func TestFault02_Login(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t)
	cfg.Gate.TokenTTL = 10 * time.Minute
	ts := startServer(t, cfg)

	before := time.Now()
	resp, body := ts.login(t, `{"username":"ada"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var lr shared.LoginResponse
	require.NoError(t, json.Unmarshal(body, &lr))
	assert.Equal(t, "ada", lr.Username)
	assert.WithinDuration(t, before.Add(cfg.Gate.TokenTTL), lr.ExpiresAt, 5*time.Second)
	user, err := ts.Gate().VerifyToken(lr.Token)
	require.NoError(t, err)
	assert.Equal(t, "ada", user)

	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, gate.TokenCookie, c.Name)
	assert.Equal(t, lr.Token, c.Value)
	assert.True(t, c.HttpOnly, "scripts on the page cannot read it")
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite, "other sites cannot make the browser send it")
	assert.Equal(t, "/", c.Path)
	assert.False(t, c.Secure, "over plain HTTP; set behind TLS")

	// The token works on a socket, from the cookie alone.
	assert.Equal(t, "ada", ts.chatIdentity(t, chatQuery("login", "nobody"),
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {gate.TokenCookie + "=" + c.Value}}}))

	bad := []struct {
		name, body string
		code       shared.ErrorCode
	}{
		{"empty body", ``, shared.CodeBadJSON},
		{"not JSON", `username=ada`, shared.CodeBadJSON},
		{"an array", `["ada"]`, shared.CodeBadJSON},
		{"a number for a name", `{"username":42}`, shared.CodeBadJSON},
		{"over 4 KiB", `{"username":"` + strings.Repeat("a", 5<<10) + `"}`, shared.CodeBadJSON},
		{"no name", `{}`, shared.CodeBadRequest},
		{"path", `{"username":"../../x"}`, shared.CodeBadRequest},
		{"markup", `{"username":"<img src=x onerror=alert(1)>"}`, shared.CodeBadRequest},
		{"too long", `{"username":"` + strings.Repeat("a", 33) + `"}`, shared.CodeBadRequest},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.login(t, tt.body)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
			assert.Equal(t, tt.code, apiErrorOf(t, body).Code)
			assert.Empty(t, resp.Cookies())
			assert.NotContains(t, string(body), "onerror", "the input is not echoed")
		})
	}

	cfg = authConfig(t)
	cfg.Gate.GuestLogin = false
	off := startServer(t, cfg)
	resp, body = off.login(t, `{"username":"ada"}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, shared.CodeNotFound, apiErrorOf(t, body).Code)
	assert.Empty(t, resp.Cookies())
	// Tokens from the deployment's own issuer, with the same secret, still work.
	assert.Equal(t, "ada", off.chatIdentity(t, chatQuery("own-issuer", "nobody"), bearer(goodToken(t, "ada"))))
}

// A foreign page is told 403 for its origin, before and whatever its
// credentials: FAULTS row 1 under -require-auth.
func TestFault01_ForeignOriginIs403EvenWhenAuthIsRequired(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.RequireAuth = true
	ts := startServer(t, cfg)
	for _, path := range []string{"/ws/echo", "/ws/chat?username=ada", "/ws/notifications?user_id=ada", "/ws/dashboard"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, resp, err := websocket.Dial(ctx, ts.wsURL(path), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
		cancel()
		require.Error(t, err, path)
		require.NotNil(t, resp, path)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, path)
	}
	assert.Equal(t, 0, ts.Gate().Len())
}

// Behind a TLS-terminating proxy the server sees plain HTTP; -secure-cookie
// still marks the login cookie Secure.
func TestLoginCookieSecureBehindAProxy(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.SecureCookie = true
	ts := startServer(t, cfg)
	resp, body := ts.login(t, `{"username":"ada"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Len(t, resp.Cookies(), 1)
	assert.True(t, resp.Cookies()[0].Secure)
}
