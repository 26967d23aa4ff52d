package gate

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wsplay/server/internal/httpjson"
	"wsplay/shared"
)

// Identity is decided in one place, Identify, for every endpoint.
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
// Config.RequireAuth is set: then the handshake gets 401 before the
// upgrade, on every endpoint, and the HTTP APIs that check with
// AuthorizeAPI need a token too.

// What a token must say, and where the login puts it. A deployment that
// issues its own tokens signs them HS256 with the gate's secret, with this
// issuer and audience, the user name as subject, and an expiry.
const (
	TokenIssuer   = "wsplay"       // the iss claim
	TokenAudience = "wsplay"       // the aud claim
	TokenCookie   = "wsplay_token" // the HttpOnly cookie POST /api/login sets
	// MaxTokenLen bounds what is parsed: a real token is a few hundred
	// bytes; a 100 KB one is refused unread.
	MaxTokenLen = 4 << 10
)

// errUnauthorized says a token was bad; errNoToken, that none came when
// one is required. Both get the same 401 body, UnauthorizedBody, so that
// the answer says nothing about why a forgery failed.
var (
	errUnauthorized = errors.New("invalid or expired token")
	errNoToken      = errors.New("no token")
)

// UnauthorizedBody is the body of every 401 a handshake gets. It never
// repeats the token or the reason it was refused.
const UnauthorizedBody = "a valid token is required: POST /api/login issues one"

// Identify returns who is connecting: the subject of a valid token, or
// claimed (a name from the query) when there is no token and auth is not
// required. kind names claimed in errors, such as "username"; kind ""
// means the endpoint takes no name, and a connection without a token is
// then anonymous (user ""). A bad token is an error even without
// RequireAuth: it is never silently replaced by the name in the query.
func (g *Gate) Identify(r *http.Request, kind, claimed string) (string, error) {
	token, ok := tokenFrom(r)
	if !ok {
		switch {
		case g.cfg.RequireAuth:
			return "", errNoToken
		case kind == "":
			return "", nil
		}
		if err := shared.ValidateName(kind, claimed); err != nil {
			return "", err
		}
		return claimed, nil
	}
	user, err := g.VerifyToken(token)
	if err != nil {
		return "", errUnauthorized
	}
	return user, nil
}

// identifyHandshake is Identify for a handshake whose query names the
// user in param (none when param is ""): it returns the user, or the
// refusal, 401 for a bad token or none when one is required and 400 for a
// bad name.
func (g *Gate) identifyHandshake(r *http.Request, param string) (string, *Refusal) {
	claimed := ""
	if param != "" {
		claimed = r.URL.Query().Get(param)
	}
	user, err := g.Identify(r, param, claimed)
	switch {
	case err == nil:
		return user, nil
	case errors.Is(err, errNoToken):
		return "", Refuse(http.StatusUnauthorized, ReasonNoToken, UnauthorizedBody)
	case errors.Is(err, errUnauthorized):
		return "", Refuse(http.StatusUnauthorized, ReasonBadToken, UnauthorizedBody)
	}
	return "", Refuse(http.StatusBadRequest, "bad "+param, "bad "+param+": "+err.Error())
}

// Authenticated reports whether r carries a token. For a request Admit
// accepted, that token was valid and named the user it returned: the
// identity is proven, not claimed.
func Authenticated(r *http.Request) bool {
	_, ok := tokenFrom(r)
	return ok
}

// AuthorizeAPI is for an HTTP API that, like the sockets, is for
// identified users only under RequireAuth (GET /api/rooms). It reports
// whether r may go on; if not, it has answered 401 with an API error.
func (g *Gate) AuthorizeAPI(w http.ResponseWriter, r *http.Request) bool {
	if !g.cfg.RequireAuth {
		return true
	}
	if _, err := g.Identify(r, "", ""); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay"`)
		httpjson.Error(w, http.StatusUnauthorized, shared.CodeUnauthorized, UnauthorizedBody)
		return false
	}
	return true
}

// BearerIs reports whether r carries token as "Authorization: Bearer". The
// comparison takes the same time wherever the tokens differ; hashing both
// first hides the token's length too.
func BearerIs(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
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
	if c, err := r.Cookie(TokenCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// VerifyToken checks a token and returns its subject.
func (g *Gate) VerifyToken(token string) (string, error) {
	if len(token) > MaxTokenLen {
		return "", errUnauthorized
	}
	if !strictForm(token) {
		return "", errUnauthorized
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return g.jwtKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), // not issued in the future
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

// strictForm checks what the JWT library lets pass: a header naming
// extensions in crit (RFC 7515, 4.1.11: a recipient that does not
// understand them must reject the token; this one understands none), and
// times that are not JSON numbers (RFC 7519, 2: NumericDate), such as an
// exp written as a string.
func strictForm(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	var header, claims map[string]json.RawMessage
	for i, into := range []*map[string]json.RawMessage{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, into) != nil {
			return false
		}
	}
	if _, ok := header["crit"]; ok {
		return false
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return false
		}
	}
	return true
}

// IssueToken signs a token for user that expires after Config.TokenTTL.
func (g *Gate) IssueToken(user string, now time.Time) (string, time.Time, error) {
	exp := now.Add(g.cfg.TokenTTL)
	claims := jwt.RegisteredClaims{
		Issuer:    TokenIssuer,
		Audience:  jwt.ClaimStrings{TokenAudience},
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(g.jwtKey)
	return signed, exp, err
}

// LoginHandler serves POST /api/login {"username": NAME}: with
// Config.GuestLogin anyone may be a guest under any valid name; the answer
// is a [shared.LoginResponse], and the token is also set as an HttpOnly,
// SameSite=Strict cookie. Without GuestLogin it answers 404. It takes only
// application/json (415), at most LoginRate a second per address (429),
// and under RequireAuth no name that is online or that Config.NameTaken
// says is taken (409).
func (g *Gate) LoginHandler() http.Handler { return http.HandlerFunc(g.serveLogin) }

func (g *Gate) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Error(w, http.StatusMethodNotAllowed, shared.CodeMethodNotAllowed, "use POST to log in")
		return
	}
	if !g.cfg.GuestLogin {
		httpjson.Error(w, http.StatusNotFound, shared.CodeNotFound, "guest login is off on this server (-guest-login=false)")
		return
	}
	// JSON only: a plain HTML form of another site can send text/plain
	// or a form encoding without asking, but not application/json.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		httpjson.Error(w, http.StatusUnsupportedMediaType, shared.CodeBadRequest, "send the login as Content-Type: application/json")
		return
	}
	if !g.logins.Allow(remoteIP(r), time.Now()) {
		w.Header().Set("Retry-After", "1")
		httpjson.Error(w, http.StatusTooManyRequests, shared.CodeRateLimited, "too many logins from this address; try again in a second")
		return
	}
	var req shared.LoginRequest
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		httpjson.Error(w, http.StatusBadRequest, shared.CodeBadJSON, "want a JSON body: {\"username\": \"…\"}")
		return
	}
	if err := shared.ValidateName("username", req.Username); err != nil {
		httpjson.Error(w, http.StatusBadRequest, shared.CodeBadRequest, err.Error())
		return
	}
	// Under RequireAuth a name is an identity: a guest may not take one
	// that is online or has notifications waiting. (Without it, anyone
	// is whoever the query says, so refusing here would protect nothing.)
	if g.cfg.RequireAuth && g.taken(r.Context(), req.Username) {
		httpjson.Error(w, http.StatusConflict, shared.CodeForbidden, "that name is in use; pick another")
		return
	}
	token, exp, err := g.IssueToken(req.Username, time.Now())
	if err != nil {
		g.log.Error("cannot sign a token", "err", err)
		httpjson.Error(w, http.StatusInternalServerError, shared.CodeInternal, "cannot sign a token")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: TokenCookie, Value: token, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		// Behind a TLS-terminating proxy the server sees plain HTTP, so
		// -secure-cookie says what r.TLS cannot.
		Secure: r.TLS != nil || g.cfg.SecureCookie,
	})
	httpjson.Write(w, http.StatusOK, shared.LoginResponse{Token: token, Username: req.Username, ExpiresAt: exp.UTC()})
}

// newJWTKey returns the signing key: the configured secret, or 32 random
// bytes, so that tokens from an earlier run stop working.
func newJWTKey(secret string) []byte {
	if secret != "" {
		return []byte(secret)
	}
	key := make([]byte, 32)
	rand.Read(key)
	return key
}
