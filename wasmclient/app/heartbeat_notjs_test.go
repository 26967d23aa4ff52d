//go:build !js

package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
)

// An endpoint that takes the connection but never answers: the socket
// pings after half its heartbeat, gives up after the whole, says why,
// and reconnects. (The endpoint's WebSocket library answers WebSocket
// pings; the heartbeat does not rely on them, since a browser cannot
// send one.)
func TestSocketDropsASilentConnectionAndReconnects(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	e.got = make(chan string, 16)
	s.Heartbeat = time.Second
	h.onLoop(s.connect)
	next(t, "the first handshake", e.arrived)
	next(t, "the first connection", e.conns)
	opened := time.Now()
	assert.Equal(t, `{"type":"ping","id":"1"}`, next(t, "the ping", e.got))
	next(t, "the second handshake", e.arrived)
	took := time.Since(opened)
	assert.GreaterOrEqual(t, took, 900*time.Millisecond, "gave up before the heartbeat was over")
	assert.Less(t, took, 2*s.Heartbeat, "reconnected %v after the connection went silent", took)
	t.Logf("reconnected %v after a silent connection opened (heartbeat %v)", took.Round(time.Millisecond), s.Heartbeat)
	eventually(t, "connected again", func() bool { return rec.count("opened") == 2 })
	h.onLoop(func() { s.stop("test over") })
	assert.True(t, rec.has("ended 1006 reconnect=true"), "%q", rec.log())
	assert.True(t, rec.has("disconnected: no answer from the server for 1s; reconnecting in"), "%q", rec.log())
	assert.Zero(t, rec.count("message"), "nothing reached the owner")
}

// An endpoint that answers: the connection stays, however quiet, and the
// pongs never reach the owner.
func TestSocketKeepsAConnectionThatAnswers(t *testing.T) {
	t.Parallel()
	h := newChatHarness(t)
	s, rec, e := startSocket(t, h, false)
	e.pong = true
	s.Heartbeat = time.Second
	h.onLoop(s.connect)
	next(t, "the connection", e.conns)
	time.Sleep(3 * s.Heartbeat)
	var rtt time.Duration
	h.onLoop(func() { rtt = s.RoundTrip(); s.stop("test over") })
	assert.Equal(t, 1, rec.count("opened"), "%q", rec.log())
	assert.Zero(t, rec.count("message"), "a pong is the socket's, not the owner's")
	assert.Positive(t, rtt, "a pong timed its ping")
}

// Against the real server, through a proxy that can stall: chat,
// notification and dashboard clients keep their quiet connections alive
// with the heartbeat; once the proxy stalls them (nothing forwarded
// either way, nothing closed), each is on a fresh connection within
// twice its heartbeat.
func TestHeartbeatFindsStalledConnectionsOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	srv := startServerAt(t, servertest.CommandDefaults(t.TempDir()), "")
	proxy := servertest.StartStallProxy(t, srv.Addr)
	const beat = 2 * time.Second
	h := newChatHarness(t)
	fast := Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}

	u, err := SocketURL(proxy.URL(), "/ws/chat")
	require.NoError(t, err)
	chatRec := &chatRecorder{}
	chat, err := NewChat(h.loop, chatRec, u, uniqueRoom(t), "ada")
	require.NoError(t, err)
	nu, err := SocketURL(proxy.URL(), "/ws/notifications")
	require.NoError(t, err)
	tabRec := &notifyRecorder{}
	tab, err := NewNotifications(h.loop, tabRec, nu, uniqueUser("ada"))
	require.NoError(t, err)
	du, err := SocketURL(proxy.URL(), "/ws/dashboard")
	require.NoError(t, err)
	dashRec := &dashRecorder{}
	dash := NewDashboard(h.loop, dashRec, du)
	dash.interval = 10 * time.Second // so that snapshots do not keep it alive
	chat.Heartbeat, tab.Heartbeat, dash.Heartbeat = beat, beat, beat
	chat.Backoff, tab.Backoff, dash.Backoff = fast, fast, fast
	h.onLoop(func() { chat.Start(); tab.Start(); dash.Connect() })
	t.Cleanup(func() { h.onLoop(func() { chat.Stop(); tab.Stop(); dash.Disconnect() }) })

	dashConnects := func() int {
		dashRec.mu.Lock()
		defer dashRec.mu.Unlock()
		n := 0
		for i, s := range dashRec.states {
			if s == Connected && (i == 0 || dashRec.states[i-1] != Connected) {
				n++
			}
		}
		return n
	}
	eventually(t, "all three connected", func() bool {
		return chatRec.getState() == Connected && tabRec.ready() && dashConnects() == 1
	})
	// Quiet for two heartbeats: the pings are answered, nothing drops.
	time.Sleep(2 * beat)
	var rtts []time.Duration
	h.onLoop(func() { rtts = []time.Duration{chat.RoundTrip(), tab.RoundTrip(), dash.RoundTrip()} })
	for i, name := range []string{"chat", "notifications", "dashboard"} {
		assert.Positive(t, rtts[i], "%s: no ping answered", name)
	}
	require.Equal(t, []int{1, 1, 1}, []int{chatRec.connections(), tabRec.connections(), dashConnects()},
		"a quiet connection that answers its pings is kept")

	stalled := time.Now()
	proxy.Stall()
	took := map[string]time.Duration{}
	eventually(t, "all three on new connections", func() bool {
		for name, again := range map[string]bool{
			"chat":          chatRec.connections() == 2 && chatRec.getState() == Connected,
			"notifications": tabRec.connections() == 2,
			"dashboard":     dashConnects() == 2,
		} {
			if _, seen := took[name]; again && !seen {
				took[name] = time.Since(stalled)
			}
		}
		return len(took) == 3
	})
	names := make([]string, 0, 3)
	for name, d := range took {
		assert.Less(t, d, 2*beat, "%s reconnected %v after the stall", name, d)
		names = append(names, fmt.Sprintf("%s %v", name, d.Round(time.Millisecond)))
	}
	slices.Sort(names)
	t.Logf("reconnected after the stall (heartbeat %v): %s", beat, strings.Join(names, ", "))
	_, detail := dashRec.state()
	assert.NotContains(t, detail, "no answer", "the dashboard is connected again")
}
