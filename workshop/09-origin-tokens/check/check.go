// Package check is the checker of exercise 9: it serves a learner's
// endpoint on a loopback port and tries it as a foreign web page, as a
// client with no token or a forged, expired or re-signed one, and as a
// client claiming another name, and reads the endpoint's log.
package check

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"wsplay/workshop/internal/tasks"
)

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"only pages of the server's own origin", "delete the CheckOrigin that returns true: gorilla's default admits clients that send no Origin (not browsers) and pages of the server's own origin, and answers others 403"},
	{"a valid token, checked before the upgrade", "jwt.ParseWithClaims with jwt.WithValidMethods([]string{\"HS256\"}) and jwt.WithExpirationRequired(); on any error answer http.Error(w, ..., http.StatusUnauthorized) and return before upgrader.Upgrade"},
	{"the name comes from the token", "use the token's subject (claims.Subject), and ignore any name in the query"},
	{"no token in the logs", "log r.URL.Path, not r.URL.String() or the query: whoever reads the logs could connect as that user"},
}

// Run checks handler, the learner's Handler, task by task.
func Run(t *testing.T, handler func(secret []byte, log *slog.Logger) http.Handler) {
	secret := []byte(rand.Text())
	logs := &logBuffer{}
	srv := httptest.NewServer(handler(secret, slog.New(slog.NewTextHandler(logs, nil))))
	t.Cleanup(srv.Close)
	c := &client{t: t, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/hello", origin: srv.URL, secret: secret}

	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			c.t = t
			f(t)
		})
	}
	task(1, func(t *testing.T) {
		good := c.token("ada", jwt.SigningMethodHS256, time.Hour, secret)
		if status, _ := c.dial(good, "", "https://evil.example"); status != http.StatusForbidden {
			t.Fatalf("Task 1: a page on https://evil.example opened a WebSocket to the server (with a valid token, as a visitor's browser would send it); expected 403, got %s", describe(status))
		}
		if status, greeting := c.dial(good, "", c.origin); status != http.StatusSwitchingProtocols {
			t.Fatalf("Task 1: the server's own page (Origin %s) must still connect; got %s", c.origin, describe(status))
		} else if greeting == "" {
			t.Fatal("Task 1: the server's own page connected but was not greeted")
		}
	})
	task(2, func(t *testing.T) {
		none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "ada", "exp": time.Now().Add(time.Hour).Unix()})
		unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ada"}).SignedString(secret)
		for _, bad := range []struct{ what, token string }{
			{"no token", ""},
			{"a token that is not a JWT", "not-a-token"},
			{"a token signed with another secret", c.token("ada", jwt.SigningMethodHS256, time.Hour, []byte("some other secret"))},
			{"an expired token", c.token("ada", jwt.SigningMethodHS256, -time.Minute, secret)},
			{"a token with no expiry", noExp},
			{"a token signed with HS384 (only HS256 is ours)", c.token("ada", jwt.SigningMethodHS384, time.Hour, secret)},
			{`an unsigned token ("alg": "none")`, unsigned},
		} {
			if status, _ := c.dial(bad.token, "", ""); status != http.StatusUnauthorized {
				t.Errorf("Task 2: with %s, expected 401 before the upgrade; got %s", bad.what, describe(status))
			}
		}
		if status, _ := c.dial(c.token("ada", jwt.SigningMethodHS256, time.Hour, secret), "", ""); status != http.StatusSwitchingProtocols {
			t.Errorf("Task 2: a valid HS256 token with an expiry must connect; got %s", describe(status))
		}
	})
	task(3, func(t *testing.T) {
		_, greeting := c.dial(c.token("ada", jwt.SigningMethodHS256, time.Hour, secret), "mallory", "")
		if greeting != "hello ada" {
			t.Fatalf("Task 3: with ada's token and ?user=mallory, expected the greeting %q; got %q", "hello ada", greeting)
		}
	})
	task(4, func(t *testing.T) {
		tok := c.token("bob", jwt.SigningMethodHS256, time.Hour, secret)
		c.dial(tok, "", "")
		time.Sleep(50 * time.Millisecond)
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, tok[len(tok)-20:]) { // its signature: the token, or its end
				t.Fatalf("Task 4: bob's token appears in the server's log: anyone who reads the log can connect as bob. The line:\n%s", shorten(line))
			}
		}
	})
}

type client struct {
	t      *testing.T
	url    string
	origin string
	secret []byte
}

func (c *client) token(sub string, method jwt.SigningMethod, ttl time.Duration, key []byte) string {
	c.t.Helper()
	s, err := jwt.NewWithClaims(method, jwt.RegisteredClaims{
		Subject:   sub,
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl)),
	}).SignedString(key)
	if err != nil {
		c.t.Fatalf("checker: signing a token: %v", err)
	}
	return s
}

// dial opens a WebSocket with token and, if not empty, ?user= and an
// Origin header. It returns the HTTP status of the handshake (101 when it
// was upgraded; 0 when there was no answer) and the greeting.
func (c *client) dial(token, user, origin string) (int, string) {
	u := c.url + "?token=" + token
	if user != "" {
		u += "&user=" + user
	}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(u, h)
	if err != nil {
		if resp != nil {
			return resp.StatusCode, ""
		}
		return 0, ""
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, msg, _ := conn.ReadMessage()
	return http.StatusSwitchingProtocols, string(msg)
}

func describe(status int) string {
	switch status {
	case 0:
		return "no answer"
	case http.StatusSwitchingProtocols:
		return "101: the WebSocket was opened"
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// logBuffer is the endpoint's log, safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
