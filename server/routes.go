package main

import (
	"net/http"
	"wsplay/server/gate"
	"wsplay/server/internal/httpjson"
	"wsplay/shared"
)

// handler returns every route of the server, in one place.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.serveHealth)
	// WebSocket routes take every method so that accept can answer a
	// wrong one with 405 and a reason instead of the mux's bare 405.
	mux.HandleFunc("/ws/echo", s.serveEcho)
	mux.Handle("/ws/dashboard", s.dashboard)
	// The same counters the dashboard shows, in the Prometheus text format.
	mux.Handle("GET /metrics", s.metricsAuth(s.metrics.Handler()))
	mux.Handle("/ws/chat", s.chat)
	mux.Handle("/api/rooms", s.chat.RoomsHandler())
	mux.Handle("/api/login", s.gate.LoginHandler())
	mux.Handle("/ws/notifications", s.notify)
	// Every method, so that a wrong one gets the API's JSON 405.
	mux.Handle("/api/notifications", s.notify.APIHandler())
	mux.Handle("/", pageHeaders(s.site))
	return s.metrics.CountRequests(mux)
}

// metricsAuth lets only requests with -metrics-token through to next, if
// the token is set.
func (s *server) metricsAuth(next http.Handler) http.Handler {
	if s.cfg.MetricsToken == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !gate.BearerIs(r, s.cfg.MetricsToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay metrics"`)
			http.Error(w, "send the metrics token as \"Authorization: Bearer TOKEN\" (see -metrics-token)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveHealth reports whether the server takes new connections: 200 while
// it runs, 503 once shutdown has begun.
func (s *server) serveHealth(w http.ResponseWriter, r *http.Request) {
	status, state := http.StatusOK, shared.HealthOK
	if s.gate.Closing() {
		status, state = http.StatusServiceUnavailable, shared.HealthShuttingDown
	}
	httpjson.Write(w, status, shared.Health{Status: state, Connections: s.gate.Len()})
}

// contentSecurityPolicy allows the page only its own scripts, styles and
// sockets. 'wasm-unsafe-eval' lets it compile WebAssembly (the Go runtime)
// without allowing JavaScript eval.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"connect-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageHeaders adds the headers every page response carries.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
