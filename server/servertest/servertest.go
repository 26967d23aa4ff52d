// Package servertest runs a whole wsplay server in process, on a
// loopback port, for tests: the real playground behind a real
// http.Server, as command wsplay runs it, without building a binary or
// reading a log line to find its address.
//
//	srv := servertest.Start(t, servertest.Config(t))
//	c, _, err := websocket.Dial(ctx, srv.WSURL("/ws/echo"), nil)
//
// The server is shut down as command wsplay shuts down (every connection
// closed with 1001, then the store) when the test ends, so that goleak
// finds none of its goroutines. The package also holds the helpers that
// tests of the server and of its clients share: a proxy that makes
// connections half-open, an address held while a server is down, a NATS
// server for servers that share rooms, and goleak with the patience a
// busy machine needs.
package servertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"wsplay/server/playground"
)

// Config returns the playground's default configuration with what tests
// need changed: a temporary data directory, a short close grace, no
// message rate limit and no connection cap per address or user (every
// test client comes from 127.0.0.1 and sends as fast as it can; tests of
// those limits set them back), and a fixed admin token, AdminToken.
func Config(t testing.TB) playground.Config {
	t.Helper()
	cfg := CommandDefaults(t.TempDir())
	cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser = 1e6, 1e6
	cfg.Gate.Conn.CloseGrace = 500 * time.Millisecond
	cfg.Chat.MessageRate, cfg.Chat.MessageBurst = 1e6, 1e6
	cfg.Chat.AddressRate, cfg.Chat.AddressBurst = 1e6, 1e6
	cfg.Notify.MessageRate, cfg.Notify.MessageBurst = 1e6, 1e6
	cfg.Notify.AdminToken = AdminToken
	return cfg
}

// CommandDefaults returns the configuration command wsplay runs with when
// given no flags, with its data in dataDir: the playground's zero values,
// and guest login on.
func CommandDefaults(dataDir string) playground.Config {
	cfg := playground.Config{DataDir: dataDir}
	cfg.Gate.GuestLogin = true
	return cfg
}

// AdminToken is the notification API's token of the servers Config makes.
const AdminToken = "test-admin-token-0123456789"

// Site stands in for the built page in tests that do not need the
// WebAssembly client.
var Site = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>wsplay</title>")},
}

// Options are how Start runs the server. Every field may be left zero.
type Options struct {
	// Addr is the address to listen on. Default 127.0.0.1:0, a free port;
	// a test that restarts a server where its clients look gives the
	// address of the one before.
	Addr string
	// Site is the page. Default: Site, a stand-in.
	Site fs.FS
	// Log receives the server's log lines. Default: the test's output,
	// at Debug, so that they are shown with a failure.
	Log io.Writer
	// LogLevel is the lowest level logged. Default Debug.
	LogLevel slog.Level
	// Listener, if not nil, wraps the listener (to shrink the socket
	// buffers of every accepted connection, say).
	Listener func(net.Listener) net.Listener
}

// Server is a running server.
type Server struct {
	*playground.Playground
	// URL is the server's http URL, such as http://127.0.0.1:34567.
	URL string
	// Addr is its host:port.
	Addr string

	http      *http.Server
	served    chan error
	closeOnce sync.Once
	closeErr  error
}

// Start runs a server of cfg until the test ends.
func Start(t testing.TB, cfg playground.Config, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Log == nil {
		o.Log = t.Output()
	}
	s, err := New(cfg, o)
	if err != nil {
		t.Fatalf("start a server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop the server: %v", err)
		}
	})
	return s
}

// New runs a server of cfg until Close, for a TestMain that shares one
// server among its tests. o.Log nil discards the log.
func New(cfg playground.Config, o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Site == nil {
		o.Site = Site
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	if o.LogLevel == 0 {
		o.LogLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: o.LogLevel}))
	p, err := playground.New(cfg, playground.Deps{Log: log, Site: o.Site})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen: %w", err), p.Shutdown(context.Background()))
	}
	if o.Listener != nil {
		ln = o.Listener(ln)
	}
	s := &Server{Playground: p, URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), http: p.HTTPServer(), served: make(chan error, 1)}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// Close shuts the server down as command wsplay does, and frees its
// address. It may be called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var pErr, hErr error
		wg.Go(func() { pErr = s.Playground.Shutdown(ctx) })
		wg.Go(func() { hErr = s.http.Shutdown(ctx) })
		wg.Wait()
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			hErr = errors.Join(hErr, err)
		}
		s.closeErr = errors.Join(pErr, hErr)
	})
	return s.closeErr
}

// WSURL returns the ws URL of path on the server.
func (s *Server) WSURL(path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

// Eventually polls cond every 10 ms until it holds, or fails t after 20 s
// (only a failing test waits that long). On a timeout it reports what,
// and what each of explain says about the state.
func Eventually(t testing.TB, what string, cond func() bool, explain ...func() string) {
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

// FindLeaks is goleak.Find with a longer patience: goleak retries for
// about half a second, and on a busy machine a connection's goroutines may
// take longer than that to return after it closed. A real leak stays.
func FindLeaks(opts ...goleak.Option) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// HoldAddress listens on addr and hangs up on every connection, as a
// stopped server's port refuses them, so that no other test's server
// takes the address while this test's server is down. Call release just
// before starting the server again.
func HoldAddress(t testing.TB, addr string) (release func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hold %s: %v", addr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var once sync.Once
	release = func() {
		once.Do(func() {
			ln.Close()
			<-done
		})
	}
	t.Cleanup(release)
	return release
}
