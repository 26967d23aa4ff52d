package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := findLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// findLeaks is goleak.Find with a longer patience: goleak retries for
// about half a second, and on a busy machine a connection's goroutines may
// take longer than that to return after it closed. A real leak stays.
func findLeaks(opts ...goleak.Option) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testConfig returns the default configuration, with the timeouts that
// matter to tests shortened.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	cfg.CloseGrace = 500 * time.Millisecond
	cfg.DataDir = t.TempDir()
	// Tests send as fast as they can; the rate-limit tests set it back.
	cfg.MessageRate, cfg.MessageBurst = 1e6, 1e6
	// Every test client comes from 127.0.0.1; the limit tests set these.
	cfg.MaxConnsPerIP, cfg.MaxConnsPerUser = 1e6, 1e6
	return cfg
}

// testSite stands in for the built site in tests that do not need the
// WebAssembly client.
var testSite = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>wsplay</title>")},
}

// testServer is the real handler behind a loopback httptest server.
type testServer struct {
	*server
	URL  string // http://127.0.0.1:port
	http *httptest.Server
}

// startServer serves cfg's server until the test ends, then shuts it down
// as run does, so that every connection's goroutines are gone before
// goleak looks.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startServerWithSite(t, cfg, testSite)
}

// startServerWithSite is startServer serving the given site.
func startServerWithSite(t *testing.T, cfg Config, site fs.FS) *testServer {
	t.Helper()
	return startServerAt(t, cfg, site, "127.0.0.1:0")
}

// startServerAt is startServerWithSite listening on addr, so that a test
// can stop a server and start another where clients will look for it.
func startServerAt(t *testing.T, cfg Config, site fs.FS, addr string) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := newServer(cfg, log, site)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(s.handler())
	hs.Listener = ln
	hs.Start()
	ts := &testServer{server: s, URL: hs.URL, http: hs}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop shuts the server down as run does and frees its address. It may
// be called more than once.
func (ts *testServer) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, ts.shutdown(ctx))
	ts.http.Close()
}

// wsURL turns the test server's http URL into a ws URL for path.
func (ts *testServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

// dial connects a coder/websocket client, as the playground's own client
// does, and closes it when the test ends.
func (ts *testServer) dial(t *testing.T, path string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ts.wsURL(path), opts)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// readClose reads until the connection ends and returns its close status
// and reason, or -1 when it ended without a close frame.
func readClose(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		require.NoError(t, ctx.Err(), "waiting for a close frame")
		return -1, err.Error()
	}
}

// eventually polls cond every 10 ms until it holds or 20 s pass (only a
// failing test waits that long). On a timeout it reports what, and the
// state that explain says.
func eventually(t *testing.T, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				what += "; " + e()
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
