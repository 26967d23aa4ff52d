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
	opts := &natsserver.Options{
		Host:      "127.0.0.1",
		Port:      -1, // a free port
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("natstest: the NATS server did not start within 10 s")
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
	ns, err := natsserver.NewServer(s.opts)
	if err != nil {
		t.Fatalf("natstest: restart: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("natstest: the NATS server did not start again within 10 s")
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
