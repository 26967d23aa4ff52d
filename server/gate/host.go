package gate

import (
	"net"
	"net/http"
	"strings"
)

// The Host check. A page of any site can make the browser talk to a
// server on the developer's loopback by rebinding its own name to
// 127.0.0.1 (DNS rebinding); the browser then sends that name as Host and
// as the Origin, which the same-origin check would take for the server's
// own. So the gate answers only to names it knows: loopback names and
// addresses, and Config.AllowedHosts.

// hostAllowed reports whether r's Host names this server.
func (g *Gate) hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if isLoopback(host) {
		return true
	}
	return g.hosts[host]
}

// isLoopback reports whether host is a loopback address or a name that
// always resolves to one (RFC 6761: localhost and its subdomains).
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReasonBadHost is the reason a request for a Host the gate does not know
// is refused for.
const ReasonBadHost = "host not allowed"

// HostFilter answers 421 Misdirected Request to every request whose Host
// is not the server's (see Config.AllowedHosts), before next does any work:
// the defence against DNS rebinding for every route, not only the
// sockets. Admit checks it too, for endpoints mounted without it.
func (g *Gate) HostFilter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r) {
			g.refuseHost(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *Gate) refuseHost(w http.ResponseWriter, r *http.Request) {
	g.reject(w, r, Refuse(http.StatusMisdirectedRequest, ReasonBadHost,
		"this server does not answer to that host name: use localhost, 127.0.0.1 or a name in its allowed hosts"))
}
