package metrics

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMetricsUsersOnlineCountsDistinctUsers(t *testing.T) {
	t.Parallel()
	m := New()
	m.UserConnected("ada")
	m.UserConnected("ada") // a second tab
	m.UserConnected("bob")
	assert.Equal(t, int64(2), m.Read().UsersOnline)
	m.UserDisconnected("ada")
	assert.Equal(t, int64(2), m.Read().UsersOnline, "ada still has a tab")
	m.UserDisconnected("ada")
	m.UserDisconnected("nobody") // unknown: ignored
	assert.Equal(t, int64(1), m.Read().UsersOnline)
}

func TestMetricsBoundsRejectReasons(t *testing.T) {
	t.Parallel()
	m := New()
	for i := range 100 {
		m.HandshakeRejected("reason " + strings.Repeat("x", i))
	}
	r := m.Read()
	assert.LessOrEqual(t, len(r.Rejected), m.maxRejectKeys+1)
	assert.Positive(t, r.Rejected["other"])
	assert.Equal(t, uint64(100), r.TotalRejected)
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	buckets := make([]uint64, len(LatencyBounds)+1)
	assert.Zero(t, Quantile(0.5, buckets), "no observations")

	// 100 observations, all in the bucket (10 µs, 20 µs].
	buckets[1] = 100
	assert.InDelta(t, 15e-6, Quantile(0.5, buckets), 1e-9)
	assert.InDelta(t, 19.9e-6, Quantile(0.99, buckets), 1e-9)

	// One slow outlier moves p99 into its bucket, not p50.
	buckets[1], buckets[10] = 98, 2
	assert.InDelta(t, 10e-6+10e-6*50/98, Quantile(0.5, buckets), 1e-12)
	assert.Greater(t, Quantile(0.99, buckets), LatencyBounds[9])

	// Past the last bound: reported as the largest finite bound.
	clear(buckets)
	buckets[len(LatencyBounds)] = 1
	assert.Equal(t, LatencyBounds[len(LatencyBounds)-1], Quantile(0.5, buckets))

	var h latencyHistogram = newLatencyHistogram()
	h.observe(15 * time.Microsecond)
	h.observe(time.Hour)
	counts, sum := h.load()
	assert.Equal(t, uint64(1), counts[1])
	assert.Equal(t, uint64(1), counts[len(LatencyBounds)])
	assert.Equal(t, time.Hour+15*time.Microsecond, sum)
}

func TestCPUPercent(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	at := func(ms int, cpu time.Duration) ProcessReading {
		return ProcessReading{At: t0.Add(time.Duration(ms) * time.Millisecond), CPU: cpu}
	}
	cores := time.Duration(runtime.NumCPU())

	// One core busy for a second is 100/cores percent.
	assert.InDelta(t, 100/float64(cores), CPUPercent(at(0, 0), at(1000, time.Second)), 1e-9)
	// Over a short span the kernel's tick accounting can credit more CPU
	// than the span held: capped, never over 100.
	assert.Equal(t, 100.0, CPUPercent(at(0, 0), at(10, cores*18*time.Millisecond)))
	// No time passed, or the counter went back: no reading.
	assert.Zero(t, CPUPercent(at(5, 0), at(5, time.Second)))
	assert.Zero(t, CPUPercent(at(0, time.Second), at(10, 0)))

	// The real reader: a busy goroutine shows as CPU, within the bounds.
	pr := NewProcessReader()
	before := pr.Read()
	for end := time.Now().Add(CPUWindow); time.Now().Before(end); {
	}
	after := pr.Read()
	got := CPUPercent(before, after)
	assert.Greater(t, got, 0.0)
	assert.LessOrEqual(t, got, 100.0)
}

// The cost of counting on a connection's hot path: one read, one write
// and its fan-out latency, as a connection's reader and writer count them.
func BenchmarkEndpointStatsPerMessage(b *testing.B) {
	e := newEndpoint("bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Received()
			e.Sent()
			e.ObserveFanout(42 * time.Microsecond)
		}
	})
}

// A Tally counts exactly what the same calls on the endpoint would.
func TestTallyCountsAsTheCallsWould(t *testing.T) {
	t.Parallel()
	each, tallied := newEndpoint("each"), newEndpoint("tallied")
	var tally Tally
	for i, d := range []time.Duration{0, 5 * time.Microsecond, 42 * time.Microsecond, 42 * time.Microsecond, time.Second, time.Hour} {
		each.Sent()
		tally.Sent()
		if i > 0 {
			each.ObserveFanout(d)
			tally.ObserveFanout(d)
		}
	}
	each.Sent() // one without a latency, as a dashboard snapshot is
	tally.Sent()
	tallied.AddTally(&tally)
	want, got := each.Read(), tallied.Read()
	want.Name, got.Name = "", ""
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(7), got.MsgsOut)
	(*Endpoint)(nil).AddTally(&tally) // a nil Endpoint counts nothing
}

// A write of 20 messages counted one by one, and as one Tally.
func BenchmarkEndpointStatsPerWrite(b *testing.B) {
	e := newEndpoint("bench")
	b.Run("each", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				for range 20 {
					e.Sent()
					e.ObserveFanout(42 * time.Microsecond)
				}
			}
		})
	})
	b.Run("tally", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var t Tally
				for range 20 {
					t.Sent()
					t.ObserveFanout(42 * time.Microsecond)
				}
				e.AddTally(&t)
			}
		})
	})
}
