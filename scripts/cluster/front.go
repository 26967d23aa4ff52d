package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync/atomic"
	"time"
)

// The front: one address in front of the nodes, so that a page, its API
// calls and its WebSockets all go to one node, and to another when that
// one is down. A person picks the node with ?node=N on the page's URL;
// the front remembers it in a cookie, which the page's later requests
// (same origin, no query) carry. Without a cookie a request goes to
// node 1, not round-robin, so that all of one page's sockets are on the
// node its dashboard names: a person watching a message cross knows
// which process each tab is on.
// Whichever node was preferred, a request whose dial fails goes to the
// next node (N+1, N+2, … wrapping round), so the cards of a killed node
// reconnect to another one through the same address.

// NodeCookie is the cookie that holds a browser's preferred node.
const NodeCookie = "wsplay_node"

// NodeHeader is the response header that names the node that served.
const NodeHeader = "X-Wsplay-Node"

// front is a reverse proxy to the nodes at addrs (host:port), node N
// being addrs[N-1].
type front struct {
	addrs []string
	proxy *httputil.ReverseProxy
}

// newFront returns the front of the nodes at addrs; it logs the
// requests no node could take to logger.
func newFront(addrs []string, logger *log.Logger) *front {
	f := &front{addrs: addrs}
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	base := &http.Transport{
		Proxy: nil, // loopback only, whatever the environment says
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, dialError{err}
			}
			return c, nil
		},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The node sees the Host the browser asked for, so that its
			// same-origin check compares the page's Origin (the front)
			// with the front. The node itself is chosen by the transport.
			r.Out.Host = r.In.Host
			r.Out.URL.Scheme = "http"
		},
		Transport: failover{f: f, base: base},
		ErrorLog:  logger,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Printf("%s %s: %v", r.Method, r.URL.Path, err)
			http.Error(w, "no wsplay node took the request: "+err.Error(), http.StatusBadGateway)
		},
	}
	return f
}

// ServeHTTP proxies r to the preferred node, or the next that answers.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := 1
	if c, err := r.Cookie(NodeCookie); err == nil {
		if v, err := strconv.Atoi(c.Value); err == nil && v >= 1 && v <= len(f.addrs) {
			n = v // a cookie from a larger cluster than this one is ignored
		}
	}
	if q := r.URL.Query(); q.Has("node") {
		v, err := strconv.Atoi(q.Get("node"))
		if err != nil || v < 1 || v > len(f.addrs) {
			http.Error(w, fmt.Sprintf("?node=: a node from 1 to %d", len(f.addrs)), http.StatusBadRequest)
			return
		}
		n = v
		http.SetCookie(w, &http.Cookie{Name: NodeCookie, Value: strconv.Itoa(n), Path: "/", SameSite: http.SameSiteLaxMode, HttpOnly: true})
	}
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), preferKey{}, n)))
}

// preferKey is the context key of a request's preferred node.
type preferKey struct{}

// dialError marks an error of dialing a node: nothing of the request
// was sent, so it may go to another node.
type dialError struct{ err error }

func (e dialError) Error() string { return e.err.Error() }
func (e dialError) Unwrap() error { return e.err }

// failover is the proxy's transport: it sends a request to its preferred
// node, and on a dial error to the next, each node once.
type failover struct {
	f    *front
	base http.RoundTripper
}

// RoundTrip sends req to the first node that can be dialed, and names it
// in the response's NodeHeader.
func (t failover) RoundTrip(req *http.Request) (*http.Response, error) {
	n, _ := req.Context().Value(preferKey{}).(int)
	if n < 1 || n > len(t.f.addrs) {
		n = 1
	}
	var body *readTracker
	if req.Body != nil && req.Body != http.NoBody {
		body = &readTracker{r: req.Body}
	}
	var errs error
	for range len(t.f.addrs) {
		out := req.Clone(req.Context())
		out.URL.Host = t.f.addrs[n-1]
		if body != nil {
			out.Body = body
		}
		resp, err := t.base.RoundTrip(out)
		if err == nil {
			resp.Header.Set(NodeHeader, strconv.Itoa(n))
			return resp, nil
		}
		errs = errors.Join(errs, fmt.Errorf("node %d: %w", n, err))
		// Only a failed dial is retried, and only while no byte of the
		// body has been read: past that, the node may have acted on it.
		if !errors.As(err, new(dialError)) || body != nil && body.read.Load() {
			return nil, errs
		}
		n = n%len(t.f.addrs) + 1
	}
	return nil, errs
}

// readTracker is a request body that remembers whether it was read, and
// that a failed attempt cannot close, so the next attempt can send it.
type readTracker struct {
	r    io.Reader
	read atomic.Bool
}

func (b *readTracker) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

// Close does nothing: the server closes the incoming body itself.
func (b *readTracker) Close() error { return nil }
