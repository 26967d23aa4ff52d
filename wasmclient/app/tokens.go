package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
	"wsplay/shared/wire"
)

// ErrNoGuestLogin means the server issues no guest tokens
// (-guest-login=false): connect without one, or bring one from the
// deployment's own issuer.
var ErrNoGuestLogin = errors.New("the server has guest login turned off")

// Poster sends an HTTP POST with a JSON body and returns the status and
// the body of the answer. Natively it is HTTPPost (net/http); in the
// browser, package main passes one built on fetch, which keeps net/http's
// client — 5 MB of WebAssembly — out of the page.
type Poster func(ctx context.Context, url string, body []byte) (status int, answer []byte, err error)

// Tokens logs one user in with POST /api/login and keeps a token that is
// not about to expire. Its Token method is safe from any goroutine; the
// clients call it before each dial, off the loop.
type Tokens struct {
	loginURL string
	user     string
	post     Poster
	now      func() time.Time

	mu      sync.Mutex // guards token and expires
	token   string
	expires time.Time
}

// NewTokens returns the tokens of user on the server that served pageURL,
// logging in with post.
func NewTokens(pageURL, user string, post Poster) (*Tokens, error) {
	scheme, host, err := origin(pageURL)
	if err != nil {
		return nil, err
	}
	login := scheme + "://" + host + shared.PathLogin
	return &Tokens{loginURL: login, user: user, post: post, now: time.Now}, nil
}

// refreshBefore is how long before its expiry a token is replaced.
const refreshBefore = time.Minute

// Token returns a valid token, logging in when there is none or it is
// about to expire.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Add(refreshBefore).Before(t.expires) {
		return t.token, nil
	}
	body := wire.EncodeLoginRequest(shared.LoginRequest{Username: t.user})
	status, answer, err := t.post(ctx, t.loginURL, body)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	if status == 404 {
		return "", ErrNoGuestLogin
	}
	if status != 200 {
		e, _ := wire.DecodeAPIError(answer)
		return "", fmt.Errorf("log in: status %d: %s", status, e.Error.Message)
	}
	got, err := wire.DecodeLoginResponse(answer)
	if err != nil || got.Token == "" {
		return "", fmt.Errorf("log in: unreadable answer: %v", err)
	}
	t.token, t.expires = got.Token, got.ExpiresAt
	return t.token, nil
}

// Forget drops the token, so that the next Token logs in again.
func (t *Tokens) Forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token = ""
}

// dial connects to socketURL, offering protocols (the subprotocols), with
// a token when tokens is not nil: in the query, since a browser cannot
// set headers on a WebSocket (the server never logs query strings).
// Without guest login it connects by name. It
// returns the HTTP status of a refused handshake, or 0 (always 0 in the
// browser, which hides it).
//
// A failed dial forgets the token: in the browser a 401 looks like any
// other failure, and a server restarted with a new secret refuses every
// old token, so the next attempt logs in afresh. The token never appears
// in the error, which the page shows.
func dial(ctx context.Context, tokens *Tokens, socketURL string, protocols ...string) (*websocket.Conn, int, error) {
	u := socketURL
	var tok string
	if tokens != nil {
		var err error
		tok, err = tokens.Token(ctx)
		switch {
		case errors.Is(err, ErrNoGuestLogin):
		case err != nil:
			return nil, 0, err
		default:
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "token=" + url.QueryEscape(tok)
		}
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protocols})
	status := 0
	if err != nil && resp != nil {
		status = resp.StatusCode
	}
	if err != nil && tok != "" {
		tokens.Forget()
		err = errors.New(strings.ReplaceAll(err.Error(), url.QueryEscape(tok), "REDACTED"))
	}
	return conn, status, err
}
