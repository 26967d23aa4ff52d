package main

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"

	"wsplay/shared"
)

// Chat feeds the dashboard: users online counts a user once however many
// tabs they have, rooms counts live rooms, and what the hub sends (joins,
// user lists, broadcasts) shows as chat fan-out latency (response_time).
func TestDashboardCountsChat(t *testing.T) {
	t.Parallel()
	ts := startServer(t, dashConfig(t, 10*time.Millisecond))
	viewer := ts.dial(t, "/ws/dashboard", nil)

	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	ts.joinChat(t, "general", "ada").joined() // a second tab
	ts.joinChat(t, "general", "bob").joined()
	ts.joinChat(t, "random", "cy").joined()
	// A snapshot taken before cy was counted as a user may show his
	// connection already; one taken after every join was answered shows
	// them all.
	joined := time.Now()
	d := waitSnapshot(t, viewer, "a snapshot after the joins", func(d shared.DashboardData) bool {
		return d.Timestamp.After(joined)
	})
	assert.Equal(t, 4.0, d.Metrics["connections.chat"])
	assert.Equal(t, 3.0, d.Metrics["active_users"], "ada, bob and cy")
	assert.Equal(t, 2.0, d.Metrics["rooms"])

	// A rate shows in the snapshots of the intervals with traffic only,
	// and a viewer that lags gets the newest snapshot, not each one: keep
	// ada talking until the viewer sees it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop := make(chan struct{})
	talking := make(chan struct{})
	go func() {
		defer close(talking)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if ada.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"hello, everyone"}`)) != nil {
				return
			}
		}
	}()
	d = waitSnapshot(t, viewer, "the messages read and their fan-out latency", func(d shared.DashboardData) bool {
		return d.Metrics["messages_in_per_sec.chat"] > 0 && d.Metrics["response_time"] > 0
	})
	close(stop)
	<-talking
	assert.Equal(t, d.Metrics["fanout_p50_ms.chat"], d.Metrics["response_time"])
	assert.GreaterOrEqual(t, d.Metrics["fanout_p99_ms.chat"], d.Metrics["response_time"])
}

// Notifications feed the dashboard: stored and delivered counts, and the
// tab's user online.
func TestDashboardCountsNotifications(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Dashboard.Interval = 10 * time.Millisecond
	ts := startServer(t, cfg)
	viewer := ts.dial(t, "/ws/dashboard", nil)

	tab := ts.openTab(t, "dee")
	tab.synced()
	ts.sendNote(t, "dee", "hello")
	assert.Equal(t, "hello", tab.notification().Title)
	ts.sendNote(t, "nobody-online", "stored only")
	d := waitSnapshot(t, viewer, "the notifications counted", func(d shared.DashboardData) bool {
		return d.Metrics["notifications_stored"] == 2 && d.Metrics["notifications_delivered"] == 1
	})
	assert.Equal(t, 1.0, d.Metrics["active_users"])
	assert.Equal(t, 1.0, d.Metrics["connections.notifications"])
}
