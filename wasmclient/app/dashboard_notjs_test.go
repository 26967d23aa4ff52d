//go:build !js

package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// fakeDashboard is a stand-in /ws/dashboard that sends each connection the
// snapshots its script returns, then closes with the given code. It lets
// the tests drop connections the way a restarting server does.
type fakeDashboard struct {
	mu    sync.Mutex
	conns int
	next  time.Time // timestamp of the next snapshot
	code  websocket.StatusCode
	wg    sync.WaitGroup
}

func (f *fakeDashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	if r.URL.Query().Get("interval") == "3s" {
		http.Error(w, "interval \"3s\": want one of ...", http.StatusBadRequest)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	f.mu.Lock()
	f.conns++
	first := f.conns == 1
	snap := shared.DashboardData{Timestamp: f.next, Metrics: map[string]float64{"connections": float64(f.conns)}}
	if first {
		// The first connection's first message carries a history.
		for i := range 5 {
			snap.History = append(snap.History, shared.DashboardData{
				Timestamp: f.next.Add(time.Duration(i-5) * time.Second),
				Metrics:   map[string]float64{"connections": 0},
			})
		}
	}
	f.next = f.next.Add(time.Second)
	code := f.code
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if wsjson.Write(ctx, c, snap) != nil {
		return
	}
	c.Close(code, "test")
}

func (f *fakeDashboard) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

func startFake(t *testing.T, code websocket.StatusCode) (*fakeDashboard, string) {
	t.Helper()
	f := &fakeDashboard{code: code, next: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	hs := httptest.NewServer(f)
	t.Cleanup(func() {
		hs.Close()
		f.wg.Wait()
	})
	u, err := SocketURL(hs.URL, "/ws/dashboard")
	require.NoError(t, err)
	return f, u
}

func TestDashboardReconnectsWithBackoff(t *testing.T) {
	t.Parallel()
	f, url := startFake(t, websocket.StatusGoingAway)
	loop, d, rec := startDashboard(t, url)
	d.Backoff = Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	loop.Post(d.Connect)
	eventually(t, "three connections", func() bool { return f.connections() >= 3 })

	// History and every connection's snapshot are in the series.
	eventually(t, "the history and three snapshots drawn", func() bool {
		got := make(chan int)
		loop.Post(func() { got <- d.series["connections"].len() })
		return <-got >= 5+3
	})

	loop.Post(d.Disconnect)
	eventually(t, "disconnected", func() bool { s, _ := rec.state(); return s == Disconnected })
	// A dial already under way may still reach the server (the client
	// drops what it returns); after that, nothing.
	n := f.connections()
	time.Sleep(200 * time.Millisecond) // four times the longest backoff
	m := f.connections()
	assert.LessOrEqual(t, m, n+1, "at most the dial that was under way")
	time.Sleep(200 * time.Millisecond)
	// The dial under way may also land after the first look; a client
	// still reconnecting would have made several by now.
	assert.LessOrEqual(t, f.connections(), n+1, "no reconnect after Disconnect")
}

func TestDashboardDoesNotReconnectWhenRetryingCannotHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     websocket.StatusCode
		interval time.Duration
		detail   string
	}{
		{"unsupported data", websocket.StatusUnsupportedData, 0, "1003"},
		{"normal closure", websocket.StatusNormalClosure, 0, "1000"},
		{"refused before the upgrade", websocket.StatusGoingAway, 3 * time.Second, "HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, url := startFake(t, tt.code)
			loop, d, rec := startDashboard(t, url)
			d.Backoff = Backoff{Min: time.Millisecond, Max: time.Millisecond}
			loop.Post(func() {
				d.SetInterval(tt.interval)
				d.Connect()
			})
			eventually(t, "the close", func() bool {
				s, detail := rec.state()
				return s == Disconnected && strings.Contains(detail, tt.detail)
			})
			n := f.connections()
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, n, f.connections(), "no reconnect")
			assert.LessOrEqual(t, n, 1)
		})
	}
}

func TestDashboardRedrawRequestsDoNotPileUp(t *testing.T) {
	t.Parallel()
	loop, rec := NewLoop(), &dashRecorder{}
	d := NewDashboard(loop, rec, "ws://127.0.0.1:1/ws/dashboard")
	for range 1000 {
		d.RequestRedraw() // the loop is not running: they coalesce
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()
	finished := make(chan struct{})
	loop.Post(func() { close(finished) })
	<-finished
	cancel()
	<-done
	assert.Equal(t, 1, rec.draws)
}
