// Package watch is for the workshop's checkers: an HTTP test server whose
// connections notice two writes at the same time, which gorilla/websocket
// does not allow on one connection.
package watch

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Server is an httptest.Server that counts overlapping writes.
type Server struct {
	*httptest.Server
	overlaps atomic.Int64
}

// Start serves h until t ends.
func Start(t *testing.T, h http.Handler) *Server {
	s := &Server{Server: httptest.NewUnstartedServer(h)}
	s.Listener = &listener{Listener: s.Listener, overlaps: &s.overlaps}
	s.Server.Start()
	t.Cleanup(s.Close)
	return s
}

// WSURL returns the ws:// URL of path on the server.
func (s *Server) WSURL(path string) string { return "ws" + strings.TrimPrefix(s.URL, "http") + path }

// Overlaps returns how many writes began while another write to the same
// connection was under way.
func (s *Server) Overlaps() int64 { return s.overlaps.Load() }

type listener struct {
	net.Listener
	overlaps *atomic.Int64
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, overlaps: l.overlaps}, nil
}

// conn lingers a moment in each write, so that two goroutines writing at
// once do overlap.
type conn struct {
	net.Conn
	writing  atomic.Int32
	overlaps *atomic.Int64
}

func (c *conn) Write(p []byte) (int, error) {
	if c.writing.Add(1) > 1 {
		c.overlaps.Add(1)
	}
	defer c.writing.Add(-1)
	time.Sleep(20 * time.Microsecond)
	return c.Conn.Write(p)
}
