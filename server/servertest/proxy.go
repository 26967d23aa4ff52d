package servertest

import (
	"net"
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
// recover by connecting again.
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
		p.wg.Go(func() { pr.pipe(up, down) })
		p.wg.Go(func() { pr.pipe(down, up) })
	}
}

// pipe copies src to dst until src ends; once stalled it drops what it
// reads and passes no end on.
func (pr *proxyPair) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
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
