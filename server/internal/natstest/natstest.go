// Package natstest starts a real NATS server, with JetStream, inside a
// test process: on a free loopback port, its storage in the test's
// temporary directory, stopped when the test ends. Starting one takes
// tens of milliseconds, so every test that needs NATS gets its own.
package natstest

import (
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"wsplay/server/natsembed"
)

// Server is a NATS server a test started.
type Server struct {
	*natsserver.Server
	opts *natsserver.Options
}

// Start starts a NATS server with JetStream for t and stops it when t
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	opts := natsembed.Options("", t.TempDir())
	s, err := natsembed.Start(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	srv := &Server{Server: s, opts: opts}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// Restart stops the server, waits for down, and starts it again on the
// same port with the same storage, as an operator restarting it would.
func (s *Server) Restart(t testing.TB, down time.Duration) {
	t.Helper()
	s.opts.Port = s.Addr().(*net.TCPAddr).Port
	s.Shutdown()
	s.WaitForShutdown()
	time.Sleep(down)
	ns, err := natsembed.Start(s.opts)
	if err != nil {
		t.Fatalf("natstest: restart: %v", err)
	}
	s.Server = ns
}

// Connect opens a client connection to s, closed when t ends.
func (s *Server) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
