package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"testing"
	"time"
	"wsplay/server/broker"
	"wsplay/server/servertest"
	"wsplay/shared"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := servertest.FindLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testConfig returns the default configuration, with the timeouts that
// matter to tests shortened.
func testConfig(t testing.TB) Config {
	t.Helper()
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	cfg.Gate.Conn.CloseGrace = 500 * time.Millisecond
	cfg.DataDir = t.TempDir()
	// Tests send as fast as they can; the rate-limit tests set it back.
	cfg.setMessageRate(1e6, 1e6)
	cfg.Chat.AddressRate, cfg.Chat.AddressBurst = 1e6, 1e6
	// Every test client comes from 127.0.0.1; the limit tests set these.
	cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser = 1e6, 1e6
	return cfg
}

// testServer is the whole server, in process, on a loopback port.
type testServer struct {
	*servertest.Server
}

// startServer serves cfg's server until the test ends, then shuts it down
// as run does, so that every connection's goroutines are gone before
// goleak looks.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	return startServerWith(t, cfg, servertest.Options{})
}

// startServerWithSite is startServer serving the given site.
func startServerWithSite(t *testing.T, cfg Config, site fs.FS) *testServer {
	t.Helper()
	return startServerWith(t, cfg, servertest.Options{Site: site})
}

// startServerAt is startServerWithSite listening on addr, so that a test
// can stop a server and start another where clients will look for it.
func startServerAt(t *testing.T, cfg Config, site fs.FS, addr string) *testServer {
	t.Helper()
	return startServerWith(t, cfg, servertest.Options{Site: site, Addr: addr})
}

func startServerWith(t testing.TB, cfg Config, o servertest.Options) *testServer {
	t.Helper()
	return &testServer{servertest.Start(t, cfg.Config, o)}
}

// wsURL turns the test server's http URL into a ws URL for path.
func (ts *testServer) wsURL(path string) string { return ts.WSURL(path) }

// memoryBroker is the server's broker, which tests count subscribers of.
func (ts *testServer) memoryBroker() *broker.Memory { return ts.Broker().(*broker.Memory) }

// dial connects a coder/websocket client, as the playground's own client
// does, at its default read limit (32 KiB: every frame the server sends
// fits, shared.MaxFrame, so every test checks that too), and closes it
// when the test ends. Echo, which returns larger frames when sent them,
// raises the limit where a test needs it.
func (ts *testServer) dial(t *testing.T, path string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ts.wsURL(path), opts)
	require.NoError(t, err)
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

// eventually polls cond every 10 ms until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	servertest.Eventually(t, what, cond, explain...)
}

// dialAtDefaultLimit connects a coder/websocket client to path at its
// default read limit (32 KiB), as most clients are, and closes it when
// the test ends.
func dialAtDefaultLimit(t *testing.T, ts *testServer, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ts.wsURL(path), nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// readWithin reads c's next chat message and checks that its frame is at
// most limit bytes.
func readWithin(t *testing.T, c *websocket.Conn, limit int) shared.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, len(data), limit)
	m, err := shared.Decode(data)
	require.NoError(t, err)
	return m
}
