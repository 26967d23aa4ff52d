// Command wsplay serves the WebSocket playground: the page, its WebAssembly
// client, and the WebSocket endpoints.
//
// Run it with scripts/run, which builds the client first. Every setting is a
// flag with an environment fallback; see wsplay -h. This command is only
// flags and signals: the server is package playground, whose parts are
// importable packages (see the README, "Layout").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"wsplay/server/playground"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "wsplay:", err)
		os.Exit(1)
	}
}

// run starts the server and serves until ctx is cancelled, then shuts down
// gracefully. Logs and usage go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	deps := playground.Deps{Log: log}
	if cfg.SiteDir != "" {
		deps.Site = os.DirFS(cfg.SiteDir)
	}
	p, err := playground.New(cfg.Config, deps)
	if err != nil {
		return err
	}
	if cfg.Gate.RequireAuth && cfg.Gate.GuestLogin {
		log.Warn("-require-auth with -guest-login: anyone may log in as a guest under any name that is not online or waiting for notifications")
	}
	if !p.SiteBuilt() {
		log.Warn("the WebAssembly client is not built: the page will say so; start the server with scripts/run to build it")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		// Nothing is connected yet; this closes the store.
		return errors.Join(fmt.Errorf("listen: %w", err), p.Shutdown(context.Background()))
	}
	httpServer := p.HTTPServer()
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/")

	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return errors.Join(err, p.Shutdown(context.Background()))
		}
		defer stopPprof()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "connections", p.Gate().Len())
	start := time.Now()
	err = shutdown(p, httpServer, cfg.ShutdownTimeout, log)
	<-serveErr // http.ErrServerClosed
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// shutdown stops the playground and the HTTP server together within
// timeout. What is still stuck when it runs out (a client that does not
// answer its close frame, a request whose body dribbles in) is cut, with
// a warning: a server told to stop stops, in time, and that is no error.
// Only a fault of the server's own (the store failing to close) is.
func shutdown(p *playground.Playground, httpServer *http.Server, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	var playErr, httpErr error
	wg.Go(func() { playErr = p.Shutdown(ctx) })
	wg.Go(func() {
		if httpErr = httpServer.Shutdown(ctx); errors.Is(httpErr, context.DeadlineExceeded) {
			httpServer.Close() // the stuck requests
		}
	})
	wg.Wait()
	cut := errors.Is(playErr, context.DeadlineExceeded) || errors.Is(httpErr, context.DeadlineExceeded)
	if cut {
		log.Warn("shutdown timeout reached: cut what was still open", "timeout", timeout)
	}
	var errs []error
	for _, err := range []error{playErr, httpErr} {
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// servePprof serves the Go profiler on addr, on a mux of its own, and
// returns the function that stops it.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	log.Info("profiler listening", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close(); <-done }, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
