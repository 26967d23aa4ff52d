package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"wsplay/server/notify"
	"wsplay/shared"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// BenchmarkAppendMessage measures the store's side of a chat message: one
// transaction that numbers it, stores it and trims the room to its
// retention. A room's hub waits for it before the fan-out, so it bounds a
// room's throughput.
//
//	go test -run '^$' -bench AppendMessage ./server/store
func BenchmarkAppendMessage(b *testing.B) {
	st, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.OpenRoom(ctx, "bench", 10, nil); err != nil {
		b.Fatal(err)
	}
	m := shared.Message{Type: shared.TypeText, Room: "bench", Username: "ada", Content: strings.Repeat("x", 100), Timestamp: time.Now()}
	i := 0
	for b.Loop() {
		i++
		m.ID = fmt.Sprint("srv-", i)
		if _, _, err := st.AppendMessage(ctx, m, false, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotifyBroadcastToMaxUsers measures the store's side of a
// broadcast to as many users as -notify-max-users keeps by default: one
// transaction that stores a notification for each of 10,000 users. The
// notification service holds its lock meanwhile, so this is how long
// every other notification waits behind a broadcast. One op is one
// broadcast.
//
//	go test -run '^$' -bench NotifyBroadcast -benchtime 5x ./server/store
func BenchmarkNotifyBroadcastToMaxUsers(b *testing.B) {
	st, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const users = 10000
	lim := notify.Limits{Keep: 500, KeepPokes: 50, MaxUsers: users}
	for i := range users {
		if _, err := st.NotifySnapshot(ctx, fmt.Sprintf("user%05d", i), 0, false, lim, false); err != nil {
			b.Fatal(err)
		}
	}
	tmpl := shared.Notification{Type: "news", Title: "to everyone", Message: "a broadcast", Timestamp: time.Now()}
	for b.Loop() {
		changes, err := st.BroadcastNotification(ctx, tmpl, lim)
		if err != nil {
			b.Fatal(err)
		}
		if len(changes) != users {
			b.Fatalf("reached %d users, want %d", len(changes), users)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/users, "µs/user")
}
