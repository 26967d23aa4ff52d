package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// What the views show is decided here; the views only copy it.

func TestLogEntryRow(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 1, 234_000_000, time.UTC)
	tooBig := CloseInfo{Code: shared.CloseTooBig, Reason: "read limited at 65537 bytes", CloseAdvice: shared.DescribeClose(shared.CloseTooBig)}
	goingAway := CloseInfo{Code: shared.CloseGoingAway, CloseAdvice: shared.DescribeClose(shared.CloseGoingAway)}
	require.True(t, goingAway.Reconnect, "1001 is worth a reconnect")
	tests := []struct {
		name  string
		entry LogEntry
		want  LogRow
	}{
		{"sent", LogEntry{Time: at, Dir: Sent, Kind: "text", Size: 5, Text: "hello"},
			LogRow{"sent", "text", "10:00:01.234", "5 B", "", "hello"}},
		{"echoed", LogEntry{Time: at, Dir: Received, Kind: "binary", Size: 4, RTT: 1234567 * time.Nanosecond, Text: "de ad be ef"},
			LogRow{"received", "binary", "10:00:01.234", "4 B", "1.23ms", "de ad be ef"}},
		{"an event has no size", LogEntry{Time: at, Dir: Event, Kind: "open", Text: "connected"},
			LogRow{"event", "open", "10:00:01.234", "", "", "connected"}},
		{"a close says what its code means", LogEntry{Time: at, Dir: Event, Kind: "close", Close: &tooBig},
			LogRow{"event", "close", "10:00:01.234", "", "", `1009 ` + tooBig.Meaning + ` (reason: "read limited at 65537 bytes")`}},
		{"and whether to reconnect", LogEntry{Time: at, Dir: Event, Kind: "close", Close: &goingAway},
			LogRow{"event", "close", "10:00:01.234", "", "", "1001 " + goingAway.Meaning + " · a client should reconnect with backoff"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.entry.Row(), tt.name)
	}
}

func TestEchoControls(t *testing.T) {
	t.Parallel()
	assert.Equal(t, EchoControls{"Connect", true}, EchoControlsIn(Disconnected))
	assert.Equal(t, EchoControls{"Disconnect", true}, EchoControlsIn(Connecting), "a dial can be abandoned")
	assert.Equal(t, EchoControls{"Disconnect", true}, EchoControlsIn(Connected))
	assert.Equal(t, EchoControls{"Disconnect", false}, EchoControlsIn(Closing), "the closing handshake runs")
}

func TestChatLineRow(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 1, 0, time.Local)
	tests := []struct {
		name string
		line ChatLine
		want ChatRow
	}{
		{"another's message", ChatLine{Key: "l1", Kind: shared.TypeText, Username: "bob", Content: "hi", Time: at, Seq: 7},
			ChatRow{Key: "l1", Kind: "text", Seq: "7", Class: "text", Time: "10:00:01", Who: "bob", Text: "hi"}},
		{"one's own, pending", ChatLine{Key: "l2", Kind: shared.TypeText, Username: "ada", Content: "yo", Time: at, Own: true, Pending: true},
			ChatRow{Key: "l2", Kind: "text", Class: "text own pending", Time: "10:00:01", Who: "ada", Text: "yo"}},
		{"one's own, stored", ChatLine{Key: "l2", Kind: shared.TypeText, Username: "ada", Content: "yo", Time: at, Own: true, Seq: 8},
			ChatRow{Key: "l2", Kind: "text", Seq: "8", Class: "text own", Time: "10:00:01", Who: "ada", Text: "yo"}},
		{"a join", ChatLine{Key: "l3", Kind: shared.TypeJoin, Username: "cy, dee", Time: at},
			ChatRow{Key: "l3", Kind: "join", Class: "event", Time: "10:00:01", Text: "cy, dee joined"}},
		{"a leave without a time", ChatLine{Key: "l4", Kind: shared.TypeLeave, Username: "cy"},
			ChatRow{Key: "l4", Kind: "leave", Class: "event", Text: "cy left"}},
		{"the client's note", ChatLine{Key: "l5", Content: "the room's history started over", Time: at},
			ChatRow{Key: "l5", Class: "note", Time: "10:00:01", Text: "the room's history started over"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.line.Row(), tt.name)
	}
}

func TestPresenceAndTyping(t *testing.T) {
	t.Parallel()
	p := Presence{"ada", "bob"}
	assert.Equal(t, "In the room (2): ", p.Heading())
	assert.Equal(t, "ada,bob", p.List())
	assert.Equal(t, "", Typing{}.String())
	assert.Equal(t, "bob is typing…", Typing{"bob"}.String())
	assert.Equal(t, "ada, bob are typing…", Typing{"ada", "bob"}.String())
}

func TestNoteAsShown(t *testing.T) {
	t.Parallel()
	poke := Note{Notification: shared.Notification{Title: "poke", Message: "lunch?", From: "bob"}, Live: true}
	assert.Equal(t, "lunch? — from bob", poke.Text())
	assert.Equal(t, "unread", poke.Class())
	assert.True(t, poke.Toast())
	stored := Note{Notification: shared.Notification{Title: "Order", Message: "shipped"}}
	assert.Equal(t, "shipped", stored.Text(), "from no one: a back-end system")
	assert.False(t, stored.Toast(), "sent on connect: no toast")
	poke.Read = true
	assert.Equal(t, "", poke.Class())
	assert.False(t, poke.Toast(), "read in another tab already")

	assert.Equal(t, "notifications: connected", NotifyStatus(Connected, ""))
	assert.Equal(t, "notifications: connected · loading notifications", NotifyStatus(Connected, "loading notifications"))
	assert.Equal(t, "poked bob", PokedStatus("bob"))
}

func TestIntervalChoices(t *testing.T) {
	t.Parallel()
	choices := IntervalChoices()
	require.Len(t, choices, 1+len(shared.DashboardIntervals))
	assert.Equal(t, IntervalChoice{"", "server default"}, choices[0])
	d := NewDashboard(NewLoop(), &dashRecorder{}, "ws://127.0.0.1:1/ws/dashboard")
	for _, c := range choices[1:] {
		d.ChooseInterval(c.Value)
		iv, err := shared.ParseDashboardInterval(c.Value)
		require.NoError(t, err, "the server takes %q", c.Value)
		assert.Equal(t, iv, d.interval)
	}
	d.ChooseInterval(choices[0].Value)
	assert.Equal(t, "ws://127.0.0.1:1/ws/dashboard", d.URL(), "the server's default: no interval asked")
}

func TestSocketsOf(t *testing.T) {
	t.Parallel()
	s, err := SocketsOf("https://play.example/some/page?x=1")
	require.NoError(t, err)
	assert.Equal(t, Sockets{"wss://play.example/ws/echo", "wss://play.example/ws/chat",
		"wss://play.example/ws/notifications", "wss://play.example/ws/dashboard"}, s)
	_, err = SocketsOf("file:///index.html")
	assert.ErrorContains(t, err, "want http or https")
}
