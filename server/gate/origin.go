package gate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// checkOrigin applies the origin policy: a request without an Origin header
// (not from a browser) and a page of the server's own origin may connect,
// and so may the allowed origins; everything else is refused. It returns a
// short reason for a refusal.
func (g *Gate) checkOrigin(r *http.Request) (reason string, ok bool) {
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return "", true
	case origin == "null":
		return ReasonNullOrigin, false
	}
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return ReasonBadOrigin, false
	}
	if g.origins[n] {
		return "", true
	}
	// The server's own origin: its scheme, host and port. The scheme is
	// https when the request came over TLS or, behind a TLS-terminating
	// proxy, when Config.SecureCookie says so.
	scheme, host, _ := strings.Cut(n, "://")
	if strings.EqualFold(host, r.Host) && (scheme == "http" && r.TLS == nil || scheme == "https" && (r.TLS != nil || g.cfg.SecureCookie)) {
		return "", true
	}
	return ReasonForeign, false
}

// NormalizeOrigin returns origin as "scheme://host[:port]" in lower case,
// or an error if it is not of that form.
func NormalizeOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", origin, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q: want scheme://host[:port] with scheme http or https", origin)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
