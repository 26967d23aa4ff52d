package playground

import (
	"net/http"
	"time"

	"wsplay/server/gate"
	"wsplay/server/internal/httpjson"
	"wsplay/shared"
)

// routes returns every route of the playground, in one place.
func (p *Playground) routes() http.Handler {
	mux := http.NewServeMux()
	// Plain HTTP routes answer within deadlines (see deadlines); the
	// WebSocket routes set their own once upgraded.
	plain := func(h http.Handler) http.Handler { return p.deadlines(h) }
	mux.Handle("GET /healthz", plain(http.HandlerFunc(p.serveHealth)))
	// WebSocket routes take every method so that the gate can answer a
	// wrong one with 405 and a reason instead of the mux's bare 405.
	echo := p.echo
	if echo == nil {
		echo = Echo(p.gate)
	}
	mux.Handle("/ws/echo", echo)
	mux.Handle("/ws/dashboard", p.dashboard)
	// The same counters the dashboard shows, in the Prometheus text format.
	mux.Handle("GET /metrics", plain(p.metricsAuth(p.metrics.Handler())))
	var chatWS http.Handler = p.chat
	if p.chatWS != nil {
		chatWS = p.chatWS
	}
	mux.Handle("/ws/chat", chatWS)
	mux.Handle("/api/rooms", plain(p.chat.RoomsHandler()))
	mux.Handle("/api/login", plain(p.gate.LoginHandler()))
	mux.Handle("/ws/notifications", p.notify)
	// Every method, so that a wrong one gets the API's JSON 405.
	mux.Handle("/api/notifications", plain(p.notify.APIHandler()))
	// The workshop's lesson pages ask which exercise is served here, for
	// their live panel; scripts/workshop serve answers with one, the
	// playground with none.
	mux.Handle("GET /api/workshop", plain(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("/", plain(pageHeaders(p.site)))
	return p.metrics.CountRequests(p.gate.HostFilter(mux))
}

// deadlines bounds a plain HTTP request: its body must arrive within
// Config.BodyTimeout and its answer be taken within
// Config.ResponseTimeout, so that a client dribbling a body or never
// reading an answer holds no connection for long (slow HTTP).
func (p *Playground) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		rc.SetReadDeadline(now.Add(p.cfg.BodyTimeout))
		rc.SetWriteDeadline(now.Add(p.cfg.ResponseTimeout))
		next.ServeHTTP(w, r)
	})
}

// metricsAuth lets only requests with -metrics-token through to next, if
// the token is set.
func (p *Playground) metricsAuth(next http.Handler) http.Handler {
	if p.cfg.MetricsToken == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !gate.BearerIs(r, p.cfg.MetricsToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay metrics"`)
			http.Error(w, "send the metrics token as \"Authorization: Bearer TOKEN\" (see -metrics-token)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveHealth reports whether the server takes new connections: 200 while
// it runs, 503 once shutdown has begun.
func (p *Playground) serveHealth(w http.ResponseWriter, r *http.Request) {
	status, state := http.StatusOK, shared.HealthOK
	if p.gate.Closing() {
		status, state = http.StatusServiceUnavailable, shared.HealthShuttingDown
	}
	httpjson.Write(w, status, shared.Health{Status: state, Connections: p.gate.Len()})
}

// contentSecurityPolicy allows the page only its own scripts, styles and
// sockets. 'wasm-unsafe-eval' lets it compile WebAssembly (the Go runtime)
// without allowing JavaScript eval. Only pages of its own origin may
// frame it: the workshop's lessons show it in their live panels.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"connect-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

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
