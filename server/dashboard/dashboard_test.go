package dashboard

import (
	"encoding/json"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// slot is a one-slot mailbox without a connection, as wsconn.Conn.Offer
// keeps one, with a send queue beside it.
type slot struct {
	f     *wsconn.Frame
	queue []*wsconn.Frame
}

func (s *slot) Enqueue(f *wsconn.Frame) bool {
	s.queue = append(s.queue, f)
	return true
}

func (s *slot) Offer(next func(bool) *wsconn.Frame) bool {
	replaced := s.f != nil
	s.f = next(replaced)
	return replaced
}

// take is the writer taking what waits: the queue first, then the slot.
func (s *slot) take() *wsconn.Frame {
	if len(s.queue) > 0 {
		f := s.queue[0]
		s.queue = s.queue[1:]
		return f
	}
	f := s.f
	s.f = nil
	return f
}

func TestViewerOfferKeepsOnlyTheNewest(t *testing.T) {
	t.Parallel()
	msg := func(s string) *wsconn.Frame { return wsconn.TextFrame([]byte(s)) }
	h1, h2, t1, t2, t3 := msg("history 1"), msg("history 2"), msg("tick 1"), msg("tick 2"), msg("tick 3")
	box := &slot{}
	v := &viewer{box: box}

	// A greeted viewer that has not taken its history yet: ticks replace
	// each other, never the history, which goes first.
	v.greet([]*wsconn.Frame{h1, h2})
	assert.False(t, v.offer(t1))
	assert.True(t, v.offer(t2))
	assert.Same(t, h1, box.take())
	assert.Same(t, h2, box.take())
	assert.Same(t, t2, box.take())

	// Taken: the next tick goes in as it is; not taken, the newer one
	// replaces it.
	assert.False(t, v.offer(t2))
	assert.True(t, v.offer(t3))
	assert.Same(t, t3, box.take())
	assert.Nil(t, box.take())
}

// A full history of snapshots as the server takes them goes in pages of
// at most shared.MaxFrame bytes, all but the last marked More, that
// together hold every snapshot once, oldest first.
func TestHistoryPagesFitAFrame(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	for _, e := range []string{shared.EndpointEcho, shared.EndpointChat, shared.EndpointNotifications, shared.EndpointDashboard} {
		m.Endpoint(e)
	}
	s := &sampler{d: &Service{m: m, log: slog.New(slog.DiscardHandler)}, proc: metrics.NewProcessReader()}
	s.past = []sample{{m.Read(), s.proc.Read()}}
	for range shared.DashboardHistory {
		s.take()
	}
	require.Len(t, s.history, shared.DashboardHistory)
	pages := s.historyPages()
	require.Greater(t, len(pages), 1, "a full history is more than a frame")
	var all []shared.DashboardData
	for i, f := range pages {
		require.LessOrEqual(t, len(f.Payload()), shared.MaxFrame)
		var d shared.DashboardData
		require.NoError(t, json.Unmarshal(f.Payload(), &d))
		assert.Equal(t, i < len(pages)-1, d.More, "page %d", i)
		all = append(all, d.History...)
		d.History, d.More = nil, false
		all = append(all, d)
	}
	require.Len(t, all, len(s.history))
	for i := range all {
		assert.True(t, all[i].Timestamp.Equal(s.history[i].Timestamp), "snapshot %d in order", i)
	}
	assert.Same(t, pages[0], s.historyPages()[0], "made once per snapshot")
}

// The dashboard measures CPU from the newest sample at least
// metrics.CPUWindow old, not over the last interval.
func TestDashboardCPUBase(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	at := func(ms int, cpu time.Duration) metrics.ProcessReading {
		return metrics.ProcessReading{At: t0.Add(time.Duration(ms) * time.Millisecond), CPU: cpu}
	}
	cores := time.Duration(runtime.NumCPU())
	// The base is the newest reading at least metrics.CPUWindow before the last.
	samples := func(ms ...int) []sample {
		out := make([]sample, len(ms))
		for i, m := range ms {
			out[i].p = at(m, 0)
		}
		return out
	}
	assert.Equal(t, at(400, 0), cpuBase(samples(0, 100, 400, 900, 1000)))
	assert.Equal(t, at(900, 0), cpuBase(samples(0, 100, 400, 900, 1400)))
	// None that old: the oldest there is.
	assert.Equal(t, at(0, 0), cpuBase(samples(0, 100, 300)))

	// The snapshot measures over that span, not over the last interval:
	// the last 10 ms were credited two intervals' worth of CPU (which
	// would read as 100%, capped), the 610 ms since the base much less.
	past := samples(0, 600, 610)
	past[2].p.CPU = cores * 20 * time.Millisecond
	for i := range past {
		past[i].r.At = past[i].p.At
	}
	assert.InDelta(t, 100*20.0/610, snapshotMetrics(past)["cpu_usage"], 0.001)

}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		interval time.Duration
		ok       bool
	}{{0, true}, {10 * time.Millisecond, true}, {time.Minute, true}, {5 * time.Millisecond, false}, {2 * time.Minute, false}} {
		err := Config{Interval: tt.interval}.Check()
		assert.Equal(t, tt.ok, err == nil, "interval %v: %v", tt.interval, err)
		_, err = New(Config{Interval: tt.interval}, Deps{})
		assert.Equal(t, tt.ok, err == nil, "New with interval %v: %v", tt.interval, err)
	}
	d, err := New(Config{}, Deps{})
	require.NoError(t, err)
	assert.Equal(t, DefaultInterval, d.cfg.Interval)
}

// The counters that chat and notifications feed reach the snapshot.
func TestSnapshotCarriesTheCounters(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.CountRoomsWith(func() int { return 3 })
	m.UserConnected("ada")
	for range 2 {
		m.NotificationStored()
	}
	m.NotificationDelivered()
	r := m.Read()
	snap := snapshotMetrics([]sample{{r: r}, {r: r}, {r: r}})
	assert.Equal(t, 3.0, snap["rooms"])
	assert.Equal(t, 1.0, snap["active_users"])
	assert.Equal(t, 2.0, snap["notifications_stored"])
	assert.Equal(t, 1.0, snap["notifications_delivered"])
}
