package store

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"wsplay/server/internal/natstest"
	"wsplay/shared"
)

// BenchmarkJetStreamAppendMessage measures what bounds one room under
// -nats: appending a chat message to the room's stream on a NATS server
// in this process, with its storage on disk, as a room does it, each
// append waiting for the server's acknowledgement. "one" is a single
// writer (one process's room sending its members' messages one after
// another); "parallel" is eight writers on one stream at once (several
// processes' members of one room). The capacity model in the README
// takes its appends per second per stream from here.
//
//	go test -run '^$' -bench JetStreamAppend ./server/store
func BenchmarkJetStreamAppendMessage(b *testing.B) {
	srv := natstest.Start(b)
	js, err := jetstream.New(srv.Connect(b))
	if err != nil {
		b.Fatal(err)
	}
	st := NewJetStreamChat(js)
	ctx := context.Background()
	m := shared.Message{Type: shared.TypeText, Username: "ada", Content: strings.Repeat("x", 100), Timestamp: time.Now()}
	var n atomic.Int64
	b.Run("one", func(b *testing.B) {
		m := m
		m.Room = "one"
		if _, err := st.OpenRoom(ctx, m.Room, 10, nil); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			m.ID = fmt.Sprint("srv-", n.Add(1))
			if _, _, err := st.AppendMessage(ctx, m, false, 1000); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("parallel", func(b *testing.B) {
		room := "parallel"
		if _, err := st.OpenRoom(ctx, room, 10, nil); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(4) // eight writers on two cores
		b.RunParallel(func(pb *testing.PB) {
			m := m
			m.Room = room
			for pb.Next() {
				m.ID = fmt.Sprint("srv-", n.Add(1))
				if _, _, err := st.AppendMessage(ctx, m, false, 1000); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
}
