package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The findings of the attack run (FAULTS rows 26 on), each reproduced
// against a real server as the attacker sent it.

// request sends method path with body and the headers of set to ts, over
// a connection of its own, and returns the status and body.
func request(t *testing.T, ts *testServer, method, path, body string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if set != nil {
		set(req)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// FAULTS row 31: a page whose name the attacker rebound to 127.0.0.1
// sends its own name as Host and as Origin. No route answers it, under
// -require-auth or not: not the page, not the APIs, not the sockets. A
// name given with -allowed-hosts is answered.
func TestAttack06_DNSRebindingIsRefused(t *testing.T) {
	t.Parallel()
	for _, requireAuth := range []bool{false, true} {
		cfg := authConfig(t)
		cfg.Gate.RequireAuth = requireAuth
		cfg.Gate.GuestLogin = true
		cfg.Gate.AllowedHosts = []string{"play.example"}
		ts := startServer(t, cfg)
		port := ts.Addr[strings.LastIndex(ts.Addr, ":"):]
		rebound := func(name string) func(*http.Request) {
			return func(r *http.Request) {
				r.Host = name + port
				r.Header.Set("Origin", "http://"+name+port)
				r.Header.Set("Content-Type", "application/json")
			}
		}
		for _, tt := range []struct{ method, path, body string }{
			{http.MethodGet, "/", ""},
			{http.MethodGet, "/api/rooms", ""},
			{http.MethodPost, "/api/login", `{"username":"ada"}`},
			{http.MethodGet, "/healthz", ""},
			{http.MethodGet, "/metrics", ""},
		} {
			status, body := request(t, ts, tt.method, tt.path, tt.body, rebound("rebind.attacker.example"))
			assert.Equal(t, http.StatusMisdirectedRequest, status, "%s %s (auth %v): %s", tt.method, tt.path, requireAuth, body)
			status, _ = request(t, ts, tt.method, tt.path, tt.body, rebound("play.example"))
			assert.NotEqual(t, http.StatusMisdirectedRequest, status, "an allowed host: %s %s", tt.method, tt.path)
		}
		for _, path := range authEndpoints {
			resp, _ := ts.rawHandshake(t, path, rebound("rebind.attacker.example"))
			assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "upgrade %s", path)
		}
		assert.Zero(t, ts.Gate().Len())
	}
}

// FAULTS row 33: the own-origin check compares the scheme too: a page of
// https://HOST is not the origin of a server that HOST serves over plain
// HTTP.
func TestAttack08_OwnOriginNeedsTheSameScheme(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	resp, _ := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Origin", "https://"+ts.Addr) })
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Origin", "http://"+ts.Addr) })
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}
