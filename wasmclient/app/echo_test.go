package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// echoRecorder is an EchoView that records what it is shown. The loop
// calls it on its goroutine; the test reads it on another.
type echoRecorder struct {
	mu     sync.Mutex
	states []ConnState
	log    []LogEntry
	errs   []string
	sent   int
}

func (r *echoRecorder) EchoState(s ConnState) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
}
func (r *echoRecorder) EchoLog(e LogEntry) { r.mu.Lock(); r.log = append(r.log, e); r.mu.Unlock() }
func (r *echoRecorder) EchoError(msg string) {
	r.mu.Lock()
	r.errs = append(r.errs, msg)
	r.mu.Unlock()
}
func (r *echoRecorder) EchoSent() { r.mu.Lock(); r.sent++; r.mu.Unlock() }

func (r *echoRecorder) lastState() ConnState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return Disconnected
	}
	return r.states[len(r.states)-1]
}

// entries returns the log entries that match dir and kind.
func (r *echoRecorder) entries(dir Direction, kind string) []LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []LogEntry
	for _, e := range r.log {
		if e.Dir == dir && e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r *echoRecorder) lastError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return ""
	}
	return r.errs[len(r.errs)-1]
}

// eventually polls cond until it holds or 30 s pass (only a failing test
// waits that long).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startEcho runs a loop and an echo client against the test server until
// the test ends.
func startEcho(t *testing.T) (*Loop, *Echo, *echoRecorder) {
	t.Helper()
	url, err := SocketURL(needServer(t), "/ws/echo")
	require.NoError(t, err)
	loop, rec := runLoop(t), &echoRecorder{}
	echo := NewEcho(loop, rec, url)
	t.Cleanup(func() {
		// Close the connection the polite way; runLoop then stops the loop.
		loop.Post(echo.Disconnect)
		eventually(t, "the echo client to disconnect", func() bool { return rec.lastState() == Disconnected })
	})
	return loop, echo, rec
}

func connect(t *testing.T, loop *Loop, echo *Echo, rec *echoRecorder) {
	t.Helper()
	loop.Post(echo.Connect)
	eventually(t, "connected", func() bool { return rec.lastState() == Connected })
}

func TestEchoFirstDial(t *testing.T) {
	loop, echo, rec := startEcho(t)
	select {
	case <-echo.FirstDial():
		t.Fatal("FirstDial is closed before any dial")
	case <-time.After(50 * time.Millisecond):
	}
	loop.Post(echo.Connect)
	select {
	case <-echo.FirstDial():
		assert.Equal(t, Connected, rec.lastState(), "closed once connected")
	case <-time.After(30 * time.Second):
		t.Fatal("FirstDial not closed after the dial")
	}
	// A second dial closes nothing again (a double close would panic).
	loop.Post(echo.Disconnect)
	eventually(t, "disconnected", func() bool { return rec.lastState() == Disconnected })
	connect(t, loop, echo, rec)

	// A dial that fails ends the first dial too.
	failing := NewEcho(loop, &echoRecorder{}, "ws://127.0.0.1:1/ws/echo")
	loop.Post(failing.Connect)
	select {
	case <-failing.FirstDial():
	case <-time.After(30 * time.Second):
		t.Fatal("FirstDial not closed after a failed dial")
	}
}

func TestEchoRoundTrip(t *testing.T) {
	loop, echo, rec := startEcho(t)
	connect(t, loop, echo, rec)

	loop.Post(func() { echo.Send(ModeText, "hello, wsplay") })
	loop.Post(func() { echo.Send(ModeHex, "00 ff 10") })
	loop.Post(func() { echo.Send(ModeBase64, "aGk=") })
	eventually(t, "three echoes", func() bool {
		return len(rec.entries(Received, "text"))+len(rec.entries(Received, "binary")) == 3
	})

	text := rec.entries(Received, "text")
	require.Len(t, text, 1)
	assert.Equal(t, "hello, wsplay", text[0].Text)
	assert.Equal(t, len("hello, wsplay"), text[0].Size)
	bin := rec.entries(Received, "binary")
	require.Len(t, bin, 2)
	assert.Equal(t, "00 ff 10", bin[0].Text)
	assert.Equal(t, 3, bin[0].Size)
	assert.Equal(t, "68 69", bin[1].Text) // "hi"
	sent := append(rec.entries(Sent, "text"), rec.entries(Sent, "binary")...)
	require.Len(t, sent, 3)
	for _, e := range append(text, bin...) {
		assert.Positive(t, e.RTT, "round trip of %q", e.Text)
		assert.Less(t, e.RTT, 10*time.Second)
	}
	assert.Equal(t, 3, rec.sent, "input cleared after each send")
}

func TestEchoShowsWhyTheServerClosed(t *testing.T) {
	loop, echo, rec := startEcho(t)
	connect(t, loop, echo, rec)

	// The page's "Send 64 KiB + 1": one byte over the server's default
	// read limit, said before it goes.
	loop.Post(echo.SendTooBig)
	eventually(t, "the close", func() bool { return len(rec.entries(Event, "close")) == 1 })
	require.Len(t, rec.entries(Event, "note"), 1)
	assert.Contains(t, rec.entries(Event, "note")[0].Text, "1009")
	sent := rec.entries(Sent, "text")
	require.Len(t, sent, 1)
	assert.Equal(t, 64<<10+1, sent[0].Size)
	c := rec.entries(Event, "close")[0].Close
	require.NotNil(t, c)
	assert.Equal(t, shared.CloseTooBig, c.Code)
	assert.False(t, c.Reconnect)
	assert.Contains(t, c.Meaning, "too big")
	eventually(t, "disconnected", func() bool { return rec.lastState() == Disconnected })
	assert.Empty(t, rec.entries(Event, "retry"), "1009 advises against reconnecting: echo waits for Connect")
	loop.Post(echo.SendTooBig)
	eventually(t, "why nothing went", func() bool { return strings.Contains(rec.lastError(), "press Connect") })
}

func TestEchoDisconnectClosesNormally(t *testing.T) {
	loop, echo, rec := startEcho(t)
	connect(t, loop, echo, rec)
	loop.Post(echo.Toggle)
	eventually(t, "the close", func() bool { return len(rec.entries(Event, "close")) == 1 })
	c := rec.entries(Event, "close")[0].Close
	assert.Equal(t, shared.CloseNormal, c.Code)
	// The close is logged, then the state changes: wait for it.
	eventually(t, "disconnected", func() bool { return rec.lastState() == Disconnected })

	// And it can connect again.
	loop.Post(echo.Toggle)
	eventually(t, "connected again", func() bool { return rec.lastState() == Connected })
}

func TestEchoReportsBadInputWithoutSending(t *testing.T) {
	loop, echo, rec := startEcho(t)
	loop.Post(func() { echo.Send(ModeText, "not yet") })
	eventually(t, "an error", func() bool { return rec.lastError() != "" })
	assert.Contains(t, rec.lastError(), "not connected")

	connect(t, loop, echo, rec)
	loop.Post(func() { echo.Send(ModeHex, "abc") })
	eventually(t, "a hex error", func() bool { return strings.HasPrefix(rec.lastError(), "hex:") })
	assert.Empty(t, rec.entries(Sent, "binary"))
}

func TestEchoConnectFailureIsLogged(t *testing.T) {
	loop, rec := NewLoop(), &echoRecorder{}
	// Port 1 on loopback: nothing listens there.
	echo := NewEcho(loop, rec, "ws://127.0.0.1:1/ws/echo")
	// Natively the refusal is immediate; under Node, coder/websocket's
	// dial may wait for its timeout instead.
	echo.DialTimeout = 2 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go loop.Run(ctx)
	loop.Post(echo.Connect)
	eventually(t, "the failure", func() bool { return len(rec.entries(Event, "error")) == 1 })
	eventually(t, "disconnected", func() bool { return rec.lastState() == Disconnected })
	assert.Contains(t, rec.entries(Event, "error")[0].Text, "connect failed")
}
