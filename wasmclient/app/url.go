package app

import (
	"fmt"
	"net/url"

	"wsplay/shared"
)

// SocketURL returns the WebSocket URL for path on the server that served
// pageURL: ws: for an http: page, wss: for https:, so the page works behind
// TLS without change.
func SocketURL(pageURL, path string) (string, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return "", fmt.Errorf("page URL: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("page URL %q: want http or https", pageURL)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}).String(), nil
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
