package chat

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"wsplay/server/broker"
	"wsplay/shared"
)

// BenchmarkHubBroadcast measures the hub's side of a fan-out: encoding a
// message once and queueing it for every member. The members' queues are
// drained by goroutines, as writePumps would; the socket writes are not
// part of this figure (scripts/loadchat measures the whole path).
func BenchmarkHubBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			cfg := Config{}.withDefaults()
			h := newHub("bench", &cfg, discardLogger(), nil, broker.NewMemory(), nil, nil)
			var drainers sync.WaitGroup
			stop := make(chan struct{})
			for i := range n {
				c := fakeClient(1024)
				m := &member{c: c, user: fmt.Sprint("u", i)}
				h.addMember(m)
				drainers.Go(func() {
					for {
						select {
						case <-c.Queue:
						case <-stop:
							return
						}
					}
				})
			}
			unsubscribe, _ := h.subscribe()
			defer unsubscribe()
			m := shared.Message{Type: shared.TypeText, Room: "bench", Username: "ada", Content: strings.Repeat("x", 100), Seq: 1}
			b.ReportAllocs()
			for b.Loop() {
				h.broadcast(m)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
			close(stop)
			drainers.Wait()
		})
	}
}

// BenchmarkHubText measures a chat message end to end inside the hub:
// storing it (in memory; package store measures SQLite's part), then the
// fan-out to 1,000 members.
func BenchmarkHubText(b *testing.B) {
	cfg := Config{}.withDefaults()
	st := NewMemoryStore()
	h := newHub("bench", &cfg, discardLogger(), st, broker.NewMemory(), nil, nil)
	var err error
	if h.state, err = st.OpenRoom(b.Context(), "bench", cfg.MaxRooms, nil); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var drainers sync.WaitGroup
	senderConn := fakeClient(1024)
	sender := &member{c: senderConn, user: "ada"}
	for i := range 1000 {
		c := fakeClient(1024)
		if i == 0 {
			c = senderConn
		}
		m := &member{c: c, user: fmt.Sprint("u", i)}
		h.addMember(m)
		drainers.Go(func() {
			for {
				select {
				case <-c.Queue:
				case <-stop:
					return
				}
			}
		})
	}
	unsubscribe, _ := h.subscribe()
	defer unsubscribe()
	in := inbound{m: sender, msg: shared.Message{Type: shared.TypeText, Content: strings.Repeat("x", 100)}}
	b.ReportAllocs()
	for b.Loop() {
		h.handleText(in)
	}
	close(stop)
	drainers.Wait()
}
