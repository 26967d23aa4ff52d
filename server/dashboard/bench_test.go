package dashboard

import (
	"encoding/json"
	"log/slog"
	"testing"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
)

// The cost of one dashboard snapshot: reading every counter and the
// runtime, computing rates and quantiles, and encoding it. A sampler does
// this once per interval, whatever the number of viewers.
func BenchmarkDashboardSnapshot(b *testing.B) {
	m := metrics.New()
	for _, reason := range []string{"origin not allowed", "bad interval"} {
		m.HandshakeRejected(reason)
	}
	s := &sampler{
		d:    &Service{m: m, log: slog.New(slog.DiscardHandler)},
		proc: metrics.NewProcessReader(),
	}
	s.past = []sample{{m.Read(), s.proc.Read()}}
	for range 60 {
		s.take() // a full history
	}
	b.ReportAllocs()
	for b.Loop() {
		s.take()
	}
	b.ReportMetric(float64(len(mustJSON(b, s.history[len(s.history)-1]))), "snapshot-bytes")
	first := 0
	for _, p := range s.historyPages() {
		first += len(p.Payload())
	}
	b.ReportMetric(float64(first), "history-bytes")
	b.ReportMetric(float64(len(s.historyPages())), "history-pages")
}

// The sampler's cost per viewer per snapshot: one offer to the viewer's
// mailbox, here for a viewer that keeps up and one that does not.
func BenchmarkDashboardOffer(b *testing.B) {
	m := wsconn.TextFrame([]byte(`{"timestamp":"2026-11-28T10:00:00Z","metrics":{}}`))
	b.Run("reader keeps up", func(b *testing.B) {
		box := &slot{}
		v := &viewer{box: box}
		b.ReportAllocs()
		for b.Loop() {
			v.offer(m)
			box.take()
		}
	})
	b.Run("stalled reader", func(b *testing.B) {
		v := &viewer{box: &slot{}}
		b.ReportAllocs()
		for b.Loop() {
			v.offer(m)
		}
	})
}

func mustJSON(b *testing.B, v any) []byte {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
