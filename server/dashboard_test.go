package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// dashConfig is the test configuration with fast dashboard ticks.
func dashConfig(t *testing.T, interval time.Duration) Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Dashboard.Interval = interval
	return cfg
}

// readSnapshot reads one dashboard message.
func readSnapshot(t *testing.T, ctx context.Context, c *websocket.Conn) shared.DashboardData {
	t.Helper()
	typ, data, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	var d shared.DashboardData
	require.NoError(t, json.Unmarshal(data, &d), "%s", data)
	return d
}

// waitSnapshot reads snapshots until one satisfies cond, for at most 5 s.
func waitSnapshot(t *testing.T, c *websocket.Conn, what string, cond func(shared.DashboardData) bool) shared.DashboardData {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		require.NoError(t, err, "waiting for a snapshot with %s", what)
		var d shared.DashboardData
		require.NoError(t, json.Unmarshal(data, &d))
		if cond(d) {
			return d
		}
	}
}

// A new viewer's first messages are the recent snapshots, a full history
// of shared.DashboardHistory, in pages that a client at
// coder/websocket's default read limit (32 KiB) reads: each within
// shared.MaxFrame, all but the last marked More, together every snapshot
// once, oldest first.
func TestDashboardFirstMessagesCarryTheHistory(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	first := ts.dial(t, "/ws/dashboard", nil)
	for range shared.DashboardHistory + 5 {
		readSnapshot(t, ctx, first)
	}
	second := dialAtDefaultLimit(t, ts, "/ws/dashboard")
	var all []shared.DashboardData
	pages := 0
	for {
		_, data, err := second.Read(ctx)
		require.NoError(t, err, "at the default read limit")
		require.LessOrEqual(t, len(data), shared.MaxFrame)
		var d shared.DashboardData
		require.NoError(t, json.Unmarshal(data, &d), "%s", data)
		pages++
		more := d.More
		all = append(all, d.History...)
		d.History, d.More = nil, false
		all = append(all, d)
		if !more {
			break
		}
	}
	assert.Greater(t, pages, 1, "a full history is more than a frame")
	require.Len(t, all, shared.DashboardHistory, "the snapshots the first viewer saw")
	for i := 1; i < len(all); i++ {
		assert.True(t, all[i].Timestamp.After(all[i-1].Timestamp), "history is oldest first, then the newest")
		assert.Empty(t, all[i-1].History, "no nested history")
	}
	// Later messages are single snapshots, newer each time.
	prev := all[len(all)-1].Timestamp
	for range 3 {
		next := readSnapshot(t, ctx, second)
		assert.Empty(t, next.History)
		assert.False(t, next.More)
		assert.True(t, next.Timestamp.After(prev))
		prev = next.Timestamp
	}
	// Both viewers share one sampler.
	assert.Equal(t, 1, ts.Dashboard().Running())
}

func TestDashboardValuesFollowRealTraffic(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))
	viewer := ts.dial(t, "/ws/dashboard", nil)
	waitSnapshot(t, viewer, "the viewer itself", func(d shared.DashboardData) bool {
		return d.Metrics["connections.dashboard"] == 1 && d.Metrics["connections"] == 1
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	echoes := make([]*websocket.Conn, 3)
	for i := range echoes {
		echoes[i] = ts.dial(t, "/ws/echo", nil)
	}
	d := waitSnapshot(t, viewer, "three echo connections", func(d shared.DashboardData) bool {
		return d.Metrics["connections.echo"] == 3
	})
	assert.Equal(t, 4.0, d.Metrics["connections"])
	assert.Equal(t, 4.0, d.Metrics["connections.echo"]+d.Metrics["connections.dashboard"])

	// Echo traffic shows as message and byte rates and as fan-out latency.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range echoes {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c.Write(ctx, websocket.MessageText, []byte("ping")) != nil {
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		})
	}
	d = waitSnapshot(t, viewer, "echo message rates", func(d shared.DashboardData) bool {
		return d.Metrics["messages_in_per_sec.echo"] > 0 && d.Metrics["messages_out_per_sec.echo"] > 0 &&
			d.Metrics["bytes_in_per_sec.echo"] > 0 && d.Metrics["fanout_p99_ms.echo"] > 0
	})
	close(stop)
	wg.Wait()
	assert.GreaterOrEqual(t, d.Metrics["messages_in_per_sec"], d.Metrics["messages_in_per_sec.echo"])
	assert.GreaterOrEqual(t, d.Metrics["fanout_p99_ms.echo"], d.Metrics["fanout_p50_ms.echo"])
	assert.Positive(t, endpointNow(ts, "dashboard").MsgsOut)
	assert.Positive(t, d.Metrics["goroutines"])
	assert.Positive(t, d.Metrics["memory_usage"])
	assert.Positive(t, d.Metrics["uptime_seconds"])
	assert.GreaterOrEqual(t, d.Metrics["cpu_usage"], 0.0)
	assert.LessOrEqual(t, d.Metrics["cpu_usage"], 100.5) // a share of all cores

	// A rejected handshake shows by its reason.
	_, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/echo"), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	waitSnapshot(t, viewer, "the rejected handshake", func(d shared.DashboardData) bool {
		return d.Metrics["handshakes_rejected.origin_not_allowed"] == 1 && d.Metrics["handshakes_rejected"] == 1
	})

	for _, c := range echoes {
		c.Close(websocket.StatusNormalClosure, "")
	}
	waitSnapshot(t, viewer, "the echo connections gone", func(d shared.DashboardData) bool {
		return d.Metrics["connections.echo"] == 0
	})
}

func TestDashboardIntervalParameter(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))

	// The endpoint's own check comes last before the upgrade, so these
	// are real handshakes.
	for _, bad := range []string{"3s", "abc", "", "-1s", "1ms", "11s", strings.Repeat("9", 500) + "s"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/dashboard?interval="+bad), nil)
		cancel()
		require.Error(t, err)
		require.NotNil(t, resp, "interval=%.20s", bad)
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "interval=%.20s", bad)
		assert.Contains(t, string(body), "want one of 100ms, 250ms", "interval=%.20s", bad)
		assert.Less(t, len(body), 200, "the reason does not echo the input at length")
	}
	assert.Equal(t, uint64(7), ts.Metrics().Read().Rejected["bad_interval"])

	// 100ms (or 0.1s) is allowed and gets its own sampler next to the
	// default one.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fast := ts.dial(t, "/ws/dashboard", nil)
	slow := ts.dial(t, "/ws/dashboard?interval=0.1s", nil)
	readSnapshot(t, ctx, fast)
	readSnapshot(t, ctx, slow) // may carry no history: its sampler just started
	// Snapshots are 100 ms apart on average; one taken late on a busy
	// machine may be followed by one that is on time, so look at several:
	// five take about 500 ms (50 ms at the 10 ms default), and the bound
	// leaves 300 ms for the first one to be late.
	a := readSnapshot(t, ctx, slow)
	var b shared.DashboardData
	for range 5 {
		b = readSnapshot(t, ctx, slow)
	}
	assert.GreaterOrEqual(t, b.Timestamp.Sub(a.Timestamp), 5*40*time.Millisecond)
	assert.Equal(t, 2, ts.Dashboard().Running())

	fast.Close(websocket.StatusNormalClosure, "")
	slow.Close(websocket.StatusNormalClosure, "")
	eventually(t, "both samplers to stop", func() bool { return ts.Dashboard().Running() == 0 })
}

func TestDashboardClosesOnBinaryAndIgnoresText(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))
	c := ts.dial(t, "/ws/dashboard", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello?")))
	readSnapshot(t, ctx, c)
	readSnapshot(t, ctx, c)
	require.NoError(t, c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}))
	code, _ := readClose(t, c)
	assert.Equal(t, websocket.StatusUnsupportedData, code)
	eventually(t, "the sampler to stop", func() bool { return ts.Dashboard().Running() == 0 })
}

// startServerSmallBuffers is startServer with a small socket send buffer on
// every accepted connection, so that a write to a peer that does not read
// blocks after a few kilobytes instead of after megabytes.
func startServerSmallBuffers(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startServerWith(t, cfg, servertest.Options{
		LogLevel: slog.LevelInfo,
		Listener: func(ln net.Listener) net.Listener { return smallBufferListener{ln} },
	})
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// A viewer that stops reading is not queued for, and does not delay the
// others: the sampler replaces its pending snapshot, and when it reads
// again it gets a fresh snapshot after at most what its socket buffers
// held, not every snapshot it missed.
func TestDashboardSlowViewerNeitherBacklogsNorDelaysOthers(t *testing.T) {
	t.Parallel()
	const interval = 10 * time.Millisecond
	cfg := dashConfig(t, interval)
	cfg.Gate.Conn.SendQueue = 1
	cfg.Gate.Conn.WriteWait = 30 * time.Second // the stalled viewer must not be dropped during the test
	ts := startServerSmallBuffers(t, cfg)

	// The healthy viewer records every snapshot's timestamp.
	healthy := ts.dial(t, "/ws/dashboard", nil)
	var (
		mu    sync.Mutex
		stamp []time.Time
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			_, data, err := healthy.Read(context.Background())
			if err != nil {
				return
			}
			var d shared.DashboardData
			if json.Unmarshal(data, &d) == nil {
				mu.Lock()
				stamp = append(stamp, d.Timestamp)
				mu.Unlock()
			}
		}
	}()

	stalled := dialSmallBuffer(t, ts.wsURL("/ws/dashboard"))
	start := time.Now()
	// Wait until the stalled viewer has skipped 100 snapshots: its
	// socket buffers are full and its writer is blocked. Filling them
	// takes longer on a busy machine than eventually's 5 s allow.
	for deadline := time.Now().Add(30 * time.Second); ts.Metrics().Read().Conflated < 100; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "timed out waiting for the stalled viewer to skip snapshots")
	}

	// Meanwhile nothing is queued for it beyond the one-slot mailbox (the
	// only places where a backlog could grow on the server).
	for _, c := range ts.Gate().Conns() {
		queue, mailbox := c.Queued()
		assert.Zero(t, queue, "a viewer's send queue is unused")
		assert.LessOrEqual(t, mailbox, 1)
	}

	// The healthy viewer kept its pace: a good share of the snapshots
	// taken since the stall began (it may skip some itself on a busy
	// machine), with no long gap.
	mu.Lock()
	var got []time.Time
	for _, s := range stamp {
		if s.After(start) {
			got = append(got, s)
		}
	}
	mu.Unlock()
	require.NotEmpty(t, got)
	taken := int(got[len(got)-1].Sub(start) / interval)
	assert.GreaterOrEqual(t, len(got), taken/4, "the healthy viewer got %d of about %d snapshots", len(got), taken)
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i].Sub(got[i-1]), 2*time.Second, "the healthy viewer waited")
	}
	t.Logf("healthy viewer: %d of about %d snapshots while the other was stalled", len(got), taken)

	// The stalled viewer reads again: a snapshot taken after it resumed
	// arrives after at most what its socket buffers held.
	resumed := time.Now()
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	n := 0
	for {
		_, data, err := stalled.ReadMessage()
		require.NoError(t, err)
		n++
		var d shared.DashboardData
		require.NoError(t, json.Unmarshal(data, &d))
		if d.Timestamp.After(resumed) {
			break
		}
		require.Less(t, n, 100, "the stalled viewer is working through a backlog")
	}
	skipped := int(resumed.Sub(start) / interval)
	t.Logf("stalled viewer: %d messages to catch up after about %d snapshots were taken", n, skipped)
	assert.Less(t, n, skipped/2)

	healthy.CloseNow()
	<-readDone
}

// FAULTS 22: viewers come and go at random during 10 ms ticks; every live
// viewer gets snapshots, with no race (go test -race) and no leak (goleak).
func TestDashboardViewersComeAndGo(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))

	// A steady viewer watches throughout.
	steady := ts.dial(t, "/ws/dashboard", nil)

	const viewers, rounds = 20, 5
	var wg sync.WaitGroup
	for range viewers {
		wg.Go(func() {
			for range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, _, err := websocket.Dial(ctx, ts.wsURL("/ws/dashboard"), nil)
				if !assert.NoError(t, err) {
					cancel()
					return
				}
				c.SetReadLimit(1 << 20)
				for range 1 + rand.IntN(4) {
					if _, _, err := c.Read(ctx); !assert.NoError(t, err, "a live viewer got no snapshot") {
						break
					}
				}
				if rand.IntN(2) == 0 {
					c.Close(websocket.StatusNormalClosure, "")
				} else {
					c.CloseNow() // vanish without a close frame
				}
				cancel()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	prev := readSnapshot(t, ctx, steady).Timestamp
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for ticks := 0; ; ticks++ {
		select {
		case <-done:
			assert.Positive(t, ticks)
			eventually(t, "the churning viewers to be gone", func() bool { return endpointNow(ts, "dashboard").Open == 1 })
			steady.Close(websocket.StatusNormalClosure, "")
			eventually(t, "the sampler to stop", func() bool { return ts.Dashboard().Running() == 0 })
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d := readSnapshot(t, ctx, steady)
		cancel()
		require.True(t, d.Timestamp.After(prev), "snapshots arrive newest last")
		prev = d.Timestamp
	}
}
