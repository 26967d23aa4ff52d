//go:build !js

package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// frameRecorder is an Inspector that keeps what it is shown.
type frameRecorder struct {
	mu     sync.Mutex
	frames []Frame
}

func (r *frameRecorder) inspect(f Frame) { r.mu.Lock(); r.frames = append(r.frames, f); r.mu.Unlock() }

// find returns the first frame of dir whose text has every one of parts.
func (r *frameRecorder) find(dir Direction, parts ...string) (Frame, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
next:
	for _, f := range r.frames {
		if f.Dir != dir {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(f.Text, p) {
				continue next
			}
		}
		return f, true
	}
	return Frame{}, false
}

func (r *frameRecorder) has(dir Direction, parts ...string) func() bool {
	return func() bool { _, ok := r.find(dir, parts...); return ok }
}

// A chat client's inspector is shown what goes over its socket, as it
// is on the wire: the opening, the join's answers, the heartbeat's ping
// and pong, a raw frame the server refuses with bad_json (and the
// connection stays up), and the close with its code explained.
func TestInspectorShowsEveryFrameOfAChatSocket(t *testing.T) {
	url := needServer(t)
	loop := runLoop(t)
	u, err := SocketURL(url, "/ws/chat")
	require.NoError(t, err)
	user := uniqueUser("ins")
	rec, frames := &chatRecorder{}, &frameRecorder{}
	c, err := NewChat(loop, rec, u, "inspector", user)
	require.NoError(t, err)
	c.Backoff = Backoff{Min: time.Hour, Max: time.Hour}
	c.Heartbeat = 400 * time.Millisecond
	c.Inspect = frames.inspect
	onLoop(loop, c.Start)
	t.Cleanup(func() { onLoop(loop, c.Stop) })
	eventually(t, "connected", func() bool { return rec.getState() == Connected })

	open, ok := frames.find(Event, "connected")
	require.True(t, ok, "the opening")
	assert.Equal(t, "open", open.Kind)
	assert.WithinDuration(t, time.Now(), open.Time, 10*time.Second)
	eventually(t, "the user list received", frames.has(Received, `"type":"user_list"`, user))
	eventually(t, "a heartbeat ping sent", frames.has(Sent, `"type":"ping"`))
	eventually(t, "its pong received", frames.has(Received, `"type":"pong"`))

	onLoop(loop, func() { require.NoError(t, c.Raw(ModeText, "not json")) })
	eventually(t, "the raw frame sent as is", frames.has(Sent, "not json"))
	eventually(t, "the server's bad_json error", frames.has(Received, `"type":"error"`, `"code":"bad_json"`))
	onLoop(loop, func() { assert.Equal(t, Connected, c.State(), "bad JSON is answered, not fatal") })

	// The connection is closed with 4000: the close is shown with its
	// code and meaning.
	var conn *websocket.Conn
	onLoop(loop, func() { conn = c.conn })
	require.NotNil(t, conn)
	conn.Close(4000, "dropped by the test")
	eventually(t, "the close explained", frames.has(Event, "4000"))
	f, _ := frames.find(Event, "4000")
	assert.Equal(t, "close", f.Kind)
	assert.Contains(t, f.Text, shared.DescribeClose(4000).Meaning)
}

// Raw sends nothing, and says why, while disconnected; a stop shows as a
// normal close.
func TestInspectorRawWhileDisconnectedAndStop(t *testing.T) {
	loop, d, frames := inspectedDashboard(t)
	onLoop(loop, func() { assert.ErrorIs(t, d.Raw(ModeText, "{}"), errNotConnected) })
	onLoop(loop, d.Connect)
	eventually(t, "a snapshot received", frames.has(Received, `"metrics"`))
	onLoop(loop, func() { d.Toggle() })
	eventually(t, "the stop shown as 1000", frames.has(Event, "1000"))
}

// A chat client that loses its connection shows its recovery step by
// step: the close, the wait before the next attempt, the new connection,
// the resume after the last seq it had, and the catching up.
func TestInspectorShowsTheResumeStepByStep(t *testing.T) {
	url := needServer(t)
	loop := runLoop(t)
	u, err := SocketURL(url, "/ws/chat")
	require.NoError(t, err)
	rec, frames := &chatRecorder{}, &frameRecorder{}
	c, err := NewChat(loop, rec, u, uniqueRoom(t), uniqueUser("resume"))
	require.NoError(t, err)
	c.Backoff = Backoff{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
	c.Inspect = frames.inspect
	onLoop(loop, c.Start)
	t.Cleanup(func() { onLoop(loop, c.Stop) })
	eventually(t, "the history received", frames.has(Received, `"type":"history"`))
	onLoop(loop, func() { require.NoError(t, c.Send("before the loss")) })
	eventually(t, "the message stored", frames.has(Received, `"seq":1`, "before the loss"))

	var conn *websocket.Conn
	onLoop(loop, func() { conn = c.conn })
	require.NotNil(t, conn)
	conn.Close(websocket.StatusServiceRestart, "lost by the test")
	eventually(t, "caught up", frames.has(Event, "caught up through seq 1"))

	frames.mu.Lock()
	var steps []Frame
	for _, f := range frames.frames {
		if f.Dir == Event && (len(steps) > 0 || f.Kind == "close") {
			steps = append(steps, f)
		}
	}
	frames.mu.Unlock()
	kinds := make([]string, len(steps))
	for i, f := range steps {
		kinds[i] = f.Kind
	}
	require.Equal(t, []string{"close", "retry", "open", "resume", "resume"}, kinds, "%v", steps)
	assert.Contains(t, steps[0].Text, "1012")
	assert.Contains(t, steps[1].Text, "(attempt 1)")
	assert.Equal(t, "asking for what came after seq 1; sending again 0 unacknowledged", steps[3].Text)
	assert.Equal(t, "caught up through seq 1", steps[4].Text)
}

// Raw sends binary too, from hex or base64: the dashboard takes no binary
// frame and closes with 1003, which the inspector explains; input that
// is not hex is refused before anything is sent.
func TestInspectorRawBinary(t *testing.T) {
	loop, d, frames := inspectedDashboard(t)
	onLoop(loop, d.Connect)
	t.Cleanup(func() { onLoop(loop, d.Disconnect) })
	eventually(t, "a snapshot received", frames.has(Received, `"metrics"`))
	onLoop(loop, func() { assert.ErrorContains(t, d.Raw(ModeHex, "zz"), "not a hex digit") })
	onLoop(loop, func() { require.NoError(t, d.Raw(ModeHex, "de ad be ef")) })
	eventually(t, "the binary frame sent", frames.has(Sent, "deadbeef"))
	f, _ := frames.find(Sent, "deadbeef")
	assert.Equal(t, "binary", f.Kind)
	eventually(t, "the close explained", frames.has(Event, "1003", shared.DescribeClose(shared.CloseUnsupportedData).Meaning))
}

// inspectedDashboard returns a disconnected dashboard client of the test
// server, on a loop of its own, and what its inspector was shown.
func inspectedDashboard(t *testing.T) (*Loop, *Dashboard, *frameRecorder) {
	t.Helper()
	loop := runLoop(t)
	u, err := SocketURL(needServer(t), "/ws/dashboard")
	require.NoError(t, err)
	frames := &frameRecorder{}
	d := NewDashboard(loop, &dashRecorder{}, u)
	d.Inspect = frames.inspect
	return loop, d, frames
}
