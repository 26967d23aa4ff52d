package servertest

import (
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// StallProxy is a loopback TCP proxy whose connections can go silent:
// Stall makes every connection open at that moment forward nothing,
// either way, and pass on no hang-up, while later connections work. Both
// ends of a stalled connection then see a peer that is there but never
// answers, as when a NAT forgets it or a laptop sleeps, and a client can
// recover by connecting again. StallRequests silences only the
// connections whose HTTP request matches, such as one chat client's
// socket among a page's.
type StallProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex // guards pairs
	pairs []*proxyPair
}

type proxyPair struct {
	down, up net.Conn
	stalled  atomic.Bool
	// request is the first line the client sent ("GET /ws/chat?… HTTP/1.1"),
	// once its first read has arrived.
	request atomic.Pointer[string]
}

// StartStallProxy forwards a loopback port to target until the test ends.
func StartStallProxy(t testing.TB, target string) *StallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &StallProxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *StallProxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's address as the http URL of the server behind it.
func (p *StallProxy) URL() string { return "http://" + p.Addr() }

// Stall silences the connections open now.
func (p *StallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.stalled.Store(true)
	}
}

// StallRequests silences the connections open now whose first request
// match accepts, and returns how many it silenced.
func (p *StallProxy) StallRequests(match func(*url.URL) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, pr := range p.pairs {
		if pr.requests(match) && !pr.stalled.Swap(true) {
			n++
		}
	}
	return n
}

// Requests returns how many connections, open or closed, the proxy has
// carried whose first request match accepts.
func (p *StallProxy) Requests(match func(*url.URL) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, pr := range p.pairs {
		if pr.requests(match) {
			n++
		}
	}
	return n
}

// requests reports whether match accepts the target (path and query)
// of the connection's first request.
func (pr *proxyPair) requests(match func(*url.URL) bool) bool {
	line := pr.request.Load()
	if line == nil {
		return false
	}
	_, rest, _ := strings.Cut(*line, " ")
	target, _, _ := strings.Cut(rest, " ")
	u, err := url.ParseRequestURI(target)
	return err == nil && match(u)
}

func (p *StallProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			down.Close()
			continue
		}
		pr := &proxyPair{down: down, up: up}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		p.wg.Go(func() { pr.pipe(up, down, true) })
		p.wg.Go(func() { pr.pipe(down, up, false) })
	}
}

// pipe copies src to dst until src ends; once stalled it drops what it
// reads and passes no end on. From the client (fromClient), it notes the
// first line of the first read: the request.
func (pr *proxyPair) pipe(dst, src net.Conn, fromClient bool) {
	buf := make([]byte, 32<<10)
	for first := fromClient; ; first = false {
		n, err := src.Read(buf)
		if first && n > 0 {
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			pr.request.Store(&line)
		}
		if n > 0 && !pr.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if !pr.stalled.Load() {
				dst.Close()
			}
			return
		}
	}
}

// close ends every connection and waits for the proxy's goroutines.
func (p *StallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pr := range p.pairs {
		pr.down.Close()
		pr.up.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
