// Command serve runs your endpoint at /ws/workshop beside the
// playground, logging to the terminal: scripts/workshop serve 9, then
// open the lesson's page and use the live panel. Its button fetches a
// token for a name (HS256, signed with this run's secret, an hour long);
// connect with and without it, and read the terminal's log lines for a
// token that should not be there. To see the origin check, try a request
// from another site's origin:
//
//	curl -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
//	  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Origin: https://evil.example' \
//	  'http://127.0.0.1:8080/ws/workshop?token=TOKEN'
package main

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"os"

	auth "wsplay/workshop/09-origin-tokens"
	"wsplay/workshop/internal/serve"
)

func main() {
	secret := []byte(rand.Text())
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("from", "your handler")
	serve.Main(serve.Exercise{
		N: 9, What: "your endpoint at /ws/workshop, its log in this terminal",
		Routes: map[string]http.Handler{
			"/ws/workshop":             auth.Handler(secret, log),
			"POST /api/workshop/token": serve.Tokens(secret),
		},
		Panel: serve.Panel{Socket: "/ws/workshop?user=ada", Actions: []serve.Action{
			{Label: "Get a token", URL: "/api/workshop/token", Fields: []string{"user"}, Token: true},
		}},
	})
}
