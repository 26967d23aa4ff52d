package app

import (
	"fmt"
	"strings"

	"wsplay/shared"
)

// SocketURL returns the WebSocket URL for path on the server that served
// pageURL: ws: for an http: page, wss: for https:, so the page works behind
// TLS without change.
func SocketURL(pageURL, path string) (string, error) {
	scheme, host, err := origin(pageURL)
	if err != nil {
		return "", err
	}
	return "ws" + strings.TrimPrefix(scheme, "http") + "://" + host + path, nil
}

// origin returns the scheme, http or https, and the host of pageURL. The
// browser has parsed the page's address already, so this only takes it
// apart; net/url's parser would add 50 KB to main.wasm.
func origin(pageURL string) (scheme, host string, err error) {
	scheme, rest, ok := strings.Cut(pageURL, "://")
	switch scheme = strings.ToLower(scheme); {
	case !ok:
		return "", "", fmt.Errorf("page URL %q: no scheme", pageURL)
	case scheme != "http" && scheme != "https":
		return "", "", fmt.Errorf("page URL %q: want http or https", pageURL)
	}
	host, _, _ = strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:] // the user's name and password are not the host
	}
	if host == "" {
		return "", "", fmt.Errorf("page URL %q: no host", pageURL)
	}
	return scheme, host, nil
}

// Sockets are the WebSocket URLs of a server's endpoints.
type Sockets struct {
	Echo, Chat, Notifications, Dashboard string
}

// SocketsOf returns the endpoints of the server that served pageURL, with
// ws: or wss: as SocketURL chooses.
func SocketsOf(pageURL string) (Sockets, error) {
	base, err := SocketURL(pageURL, "")
	if err != nil {
		return Sockets{}, err
	}
	return Sockets{base + shared.PathEcho, base + shared.PathChat, base + shared.PathNotifications, base + shared.PathDashboard}, nil
}
