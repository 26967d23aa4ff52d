// Package solution is the reference solution of exercise 9: a WebSocket
// endpoint that admits only pages of its own origin and clients with a
// valid token, takes the user's name from the token, and never logs it.
package solution

import (
	"log/slog"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// Handler returns the endpoint: it greets each client with "hello NAME",
// NAME being the token's subject. Tokens are HS256 JWTs signed with
// secret, with an expiry, sent as ?token=, since a browser's WebSocket
// cannot set headers.
func Handler(secret []byte, log *slog.Logger) http.Handler {
	// Task 1: gorilla's default CheckOrigin admits a request with no
	// Origin (not a browser) or one whose Origin is the request's own
	// host, and refuses others with 403. Leave it be.
	upgrader := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Task 4: the path only: the query holds the token.
		log.Info("connection", "path", r.URL.Path, "remote", r.RemoteAddr)
		// Tasks 2 and 3: before the upgrade, and the name from the token.
		user, ok := verify(r.URL.Query().Get("token"), secret)
		if !ok {
			http.Error(w, "a valid token is required", http.StatusUnauthorized)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // 403 for a foreign origin, answered by Upgrade
		}
		defer conn.Close()
		conn.WriteMessage(websocket.TextMessage, []byte("hello "+user))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	})
}

// verify checks token and returns its subject.
func verify(token string, secret []byte) (string, bool) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // pinned: no other algorithm
		jwt.WithExpirationRequired(),
	)
	if err != nil || claims.Subject == "" {
		return "", false
	}
	return claims.Subject, true
}
