// Package serve runs the whole playground with a workshop exercise's
// piece plugged in, for scripts/workshop serve: the learner opens the
// page and watches their code at work.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"wsplay/server/playground"
)

// Server is a playground being served.
type Server struct {
	URL string
	p   *playground.Playground
	srv *http.Server
	dir string
	end chan error
}

// Start serves the playground with deps on addr, its data in a
// temporary directory.
func Start(addr string, deps playground.Deps) (*Server, error) {
	dir, err := os.MkdirTemp("", "wsplay-workshop-")
	if err != nil {
		return nil, err
	}
	p, err := playground.New(playground.Config{DataDir: dir}, deps)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.Shutdown(context.Background())
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String() + "/", p: p, srv: p.HTTPServer(), dir: dir, end: make(chan error, 1)}
	go func() { s.end <- s.srv.Serve(ln) }()
	return s, nil
}

// Stop ends the server and removes its data.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(s.p.Shutdown(ctx), s.srv.Shutdown(ctx))
	if serveErr := <-s.end; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Main is an exercise's serve command: flags, then the server until
// Ctrl-C.
func Main(exercise int, what string, deps playground.Deps) {
	addr := flag.String("addr", "127.0.0.1:8080", "the `address` to listen on")
	flag.Parse()
	deps.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := Start(*addr, deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workshop serve:", err)
		os.Exit(1)
	}
	fmt.Printf("exercise %d: the playground with %s, at %s\n(Ctrl-C stops it)\n", exercise, what, s.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "workshop serve:", err)
		os.Exit(1)
	}
}
