package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wsplay/shared"
)

// Identity is decided in one place, identify, for every endpoint.
//
// A client proves who it is with a signed token (JWT, HS256 only, with
// exp, iss and aud checked), from POST /api/login in playground mode or
// from an issuer the deployment runs with the same secret. The token may
// come in an Authorization: Bearer header (native clients), a token query
// parameter (browsers cannot set headers on a WebSocket; the server never
// logs query strings), or the HttpOnly cookie /api/login sets. With a
// valid token the name in it is the identity and the name in the query is
// ignored. Without one, the query's name is taken as it stands (an
// endpoint that takes no name, such as echo, is then anonymous), unless
// -require-auth is set: then the handshake gets 401 before the upgrade, on
// every endpoint, and GET /api/rooms needs a token too.

const (
	tokenIssuer   = "wsplay"
	tokenAudience = "wsplay"
	tokenCookie   = "wsplay_token"
	// maxTokenLen bounds what is parsed: a real token is a few hundred
	// bytes; a 100 KB one is refused unread.
	maxTokenLen = 4 << 10
)

// errUnauthorized says a token was bad; errNoToken, that none came when
// one is required. Both get the same 401 body, unauthorizedBody, so that
// the answer says nothing about why a forgery failed.
var (
	errUnauthorized = errors.New("invalid or expired token")
	errNoToken      = errors.New("no token")
)

// unauthorizedBody is the body of every 401 a handshake gets. It never
// repeats the token or the reason it was refused.
const unauthorizedBody = "a valid token is required: POST /api/login issues one"

// identify returns who is connecting: the subject of a valid token, or
// claimed (a name from the query) when there is no token and auth is not
// required. kind names claimed in errors, such as "username"; kind ""
// means the endpoint takes no name, and a connection without a token is
// then anonymous (user "").
func (s *server) identify(r *http.Request, kind, claimed string) (string, error) {
	token, ok := tokenFrom(r)
	if !ok {
		switch {
		case s.cfg.RequireAuth:
			return "", errNoToken
		case kind == "":
			return "", nil
		}
		if err := shared.ValidateName(kind, claimed); err != nil {
			return "", err
		}
		return claimed, nil
	}
	user, err := s.verifyToken(token)
	if err != nil {
		return "", errUnauthorized
	}
	return user, nil
}

// identifyOrReject is identify for a handshake: on failure it answers 401
// (a bad token, or none when one is required) or 400 (a bad name) and
// returns false. It runs before anything else is set up for the
// connection, so a refused handshake costs no goroutine.
func (s *server) identifyOrReject(w http.ResponseWriter, r *http.Request, kind, claimed string) (string, bool) {
	// A page of another site is refused for what it is (403), before its
	// credentials are looked at; accept checks the origin again.
	if !s.originAllowed(w, r) {
		return "", false
	}
	user, err := s.identify(r, kind, claimed)
	switch {
	case err == nil:
		return user, true
	case errors.Is(err, errUnauthorized), errors.Is(err, errNoToken):
		reason := "bad token"
		if errors.Is(err, errNoToken) {
			reason = "no token"
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay"`)
		s.reject(w, r, http.StatusUnauthorized, reason, unauthorizedBody)
	default:
		s.reject(w, r, http.StatusBadRequest, "bad "+kind, "bad "+kind+": "+err.Error())
	}
	return "", false
}

// tokenFrom finds a token in the header, the query or the cookie, in that
// order.
func tokenFrom(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return t, true
		}
		return h, true // malformed: verify rejects it
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// verifyToken checks a token and returns its subject.
func (s *server) verifyToken(token string) (string, error) {
	if len(token) > maxTokenLen {
		return "", errUnauthorized
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return s.jwtKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return "", err
	}
	if shared.ValidateName("username", claims.Subject) != nil {
		return "", errUnauthorized
	}
	return claims.Subject, nil
}

// issueToken signs a token for user that expires after Config.TokenTTL.
func (s *server) issueToken(user string, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.TokenTTL)
	claims := jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Audience:  jwt.ClaimStrings{tokenAudience},
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.jwtKey)
	return signed, exp, err
}

// loginResponse is what POST /api/login returns.
type loginResponse struct {
	Token     string    `json:"token"`
	Username  string    `json:"username"`
	ExpiresAt time.Time `json:"expires_at"`
}

// serveLogin handles POST /api/login {"username": NAME}: in playground mode
// (-guest-login, the default) anyone may be a guest under any free-form
// valid name; the answer carries a token and sets it as an HttpOnly,
// SameSite=Strict cookie.
func (s *server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.GuestLogin {
		writeAPIError(w, http.StatusNotFound, shared.CodeNotFound, "guest login is off on this server (-guest-login=false)")
		return
	}
	var req struct {
		Username string `json:"username"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeAPIError(w, http.StatusBadRequest, shared.CodeBadJSON, "want a JSON body: {\"username\": \"…\"}")
		return
	}
	if err := shared.ValidateName("username", req.Username); err != nil {
		writeAPIError(w, http.StatusBadRequest, shared.CodeBadRequest, err.Error())
		return
	}
	token, exp, err := s.issueToken(req.Username, time.Now())
	if err != nil {
		s.log.Error("cannot sign a token", "err", err)
		writeAPIError(w, http.StatusInternalServerError, shared.CodeInternal, "cannot sign a token")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: tokenCookie, Value: token, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		// Behind a TLS-terminating proxy the server sees plain HTTP, so
		// -secure-cookie says what r.TLS cannot.
		Secure: r.TLS != nil || s.cfg.SecureCookie,
	})
	writeJSON(w, http.StatusOK, loginResponse{Token: token, Username: req.Username, ExpiresAt: exp.UTC()})
}

// newJWTKey returns the signing key: the configured secret, or 32 random
// bytes, so that tokens from an earlier run stop working.
func newJWTKey(secret string) ([]byte, bool) {
	if secret != "" {
		return []byte(secret), false
	}
	key := make([]byte, 32)
	rand.Read(key)
	return key, true
}
