package app

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// dashRecorder is a DashboardView that records what it is shown. The loop
// calls it on its goroutine; the test reads it on another.
type dashRecorder struct {
	mu      sync.Mutex
	states  []ConnState
	details []string
	values  map[string]string
	plots   []Plot
	draws   int
}

func (r *dashRecorder) DashboardState(s ConnState, detail string, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	r.details = append(r.details, detail)
}

func (r *dashRecorder) DashboardValues(values []Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values = map[string]string{}
	for _, v := range values {
		r.values[v.Key] = v.Text
	}
}

func (r *dashRecorder) DashboardPlots(plots []Plot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plots = plots
	r.draws++
}

func (r *dashRecorder) state() (ConnState, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return Disconnected, ""
	}
	return r.states[len(r.states)-1], r.details[len(r.details)-1]
}

func (r *dashRecorder) value(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.values[key]
}

// plot returns the newest layout of the chart with the given id.
func (r *dashRecorder) plot(id string) Plot {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.plots {
		if p.ID == id {
			return p
		}
	}
	return Plot{}
}

// startDashboard runs a loop and a dashboard client for url until the test
// ends.
func startDashboard(t *testing.T, url string) (*Loop, *Dashboard, *dashRecorder) {
	t.Helper()
	loop, rec := runLoop(t), &dashRecorder{}
	d := NewDashboard(loop, rec, url)
	t.Cleanup(func() { onLoop(loop, d.Disconnect) })
	return loop, d, rec
}

// count reads the leading number of a formatted value.
func count(text string) int {
	n, _ := strconv.Atoi(strings.Fields(text + " x")[0])
	return n
}

func TestDashboardShowsTheServersLiveValues(t *testing.T) {
	url, err := SocketURL(needServer(t), "/ws/dashboard")
	require.NoError(t, err)
	loop, d, rec := startDashboard(t, url)
	loop.Post(func() {
		d.SetInterval(100 * time.Millisecond)
		d.Connect()
	})
	eventually(t, "connected", func() bool { s, _ := rec.state(); return s == Connected })
	eventually(t, "the first values", func() bool { return count(rec.value("connections")) >= 1 })
	assert.Contains(t, rec.value("memory_usage"), "MiB")
	assert.Contains(t, rec.value("cpu_usage"), "%")
	assert.NotEqual(t, "–", rec.value("uptime_seconds"))
	before := count(rec.value("connections"))

	// Two more connections show within a few snapshots.
	echoURL, err := SocketURL(needServer(t), "/ws/echo")
	require.NoError(t, err)
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, echoURL, nil)
		cancel()
		require.NoError(t, err)
		defer c.CloseNow()
	}
	eventually(t, "the echo connections to show", func() bool { return count(rec.value("connections")) >= before+2 })
	eventually(t, "charts with points", func() bool {
		p := rec.plot("connections")
		return p.Points > 3 && len(p.Lines) == 5 && count(p.Lines[1].Current) >= 2
	})
	p := rec.plot("connections")
	assert.Equal(t, "echo", p.Lines[1].Label)
	for _, seg := range p.Lines[0].Segments {
		for _, pt := range seg {
			assert.GreaterOrEqual(t, pt.X, p.Left-ChartWidth, "x stays near the chart")
			assert.LessOrEqual(t, pt.X, p.Right+1e-9)
			assert.GreaterOrEqual(t, pt.Y, p.Top-1e-9)
			assert.LessOrEqual(t, pt.Y, p.Bottom+1e-9)
		}
	}
}

// The history comes in pages: every snapshot of every page is recorded,
// in order, and the values shown are the last page's, the newest.
func TestDashboardGathersHistoryPages(t *testing.T) {
	t.Parallel()
	rec := &dashRecorder{}
	d := NewDashboard(NewLoop(), rec, "ws://127.0.0.1:1/ws/dashboard")
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	snap := func(i int) shared.DashboardData {
		return shared.DashboardData{Timestamp: t0.Add(time.Duration(i) * time.Second), Metrics: map[string]float64{shared.MetricGoroutines: float64(i)}}
	}
	for _, page := range [][2]int{{0, 3}, {4, 7}, {8, 9}} { // snapshots first..last of each page
		p := snap(page[1])
		for i := page[0]; i < page[1]; i++ {
			p.History = append(p.History, snap(i))
		}
		p.More = page[1] < 9
		b, err := json.Marshal(p)
		require.NoError(t, err)
		d.message(b)
	}
	s := d.series[shared.MetricGoroutines]
	require.Equal(t, 10, s.len(), "every snapshot of every page")
	for i := range 10 {
		assert.Equal(t, float64(i), s.at(i).V, "in order")
	}
	assert.Equal(t, t0.Add(9*time.Second), d.latest.Timestamp, "the newest is the last page's own")
	assert.Equal(t, 1, rec.draws, "drawn once, when the last page came")
}
