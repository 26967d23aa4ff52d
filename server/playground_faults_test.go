package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// joinFaulty is joinChat with a decoder that also reads the server's
// acknowledgement of a fault, a type the chat protocol proper lacks.
func (ts *testServer) joinFaulty(t *testing.T, room, user string, extra ...string) *chatConn {
	t.Helper()
	conn := ts.dial(t, chatQuery(room, user, extra...), nil)
	return &chatConn{newTestConn(t, conn, func(b []byte) (shared.Message, error) {
		var m shared.Message
		err := json.Unmarshal(b, &m)
		return m, err
	})}
}

func faultConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Chat.Faults, cfg.Notify.Faults, cfg.Dashboard.Faults = true, true, true
	return cfg
}

func fault(content string) shared.Message {
	return shared.Message{Type: shared.TypeFault, Content: content}
}

func TestFaultsOffByDefault(t *testing.T) {
	ts := startServer(t, testConfig(t))
	c := ts.joinFaulty(t, "lab", "ada")
	c.joined()
	c.send(fault(shared.FaultStallReads))
	e := c.expect(shared.TypeError)
	require.Equal(t, shared.CodeForbidden, e.Code)
	require.Contains(t, e.Content, "-playground-faults")
	c.say("still here")
	require.Equal(t, "still here", c.expect(shared.TypeText).Content)
}

func TestFaultFlag(t *testing.T) {
	cfg, err := parseConfig([]string{"-playground-faults"}, func(string) string { return "" }, nil)
	require.NoError(t, err)
	require.True(t, cfg.Chat.Faults)
	require.True(t, cfg.Notify.Faults)
	require.True(t, cfg.Dashboard.Faults)
	cfg, err = parseConfig(nil, func(k string) string {
		if k == "WSPLAY_PLAYGROUND_FAULTS" {
			return "true"
		}
		return ""
	}, nil)
	require.NoError(t, err)
	require.True(t, cfg.Chat.Faults)
	require.True(t, cfg.Notify.Faults)
	require.True(t, cfg.Dashboard.Faults)
	cfg, err = parseConfig(nil, func(string) string { return "" }, nil)
	require.NoError(t, err)
	require.False(t, cfg.Chat.Faults || cfg.Notify.Faults || cfg.Dashboard.Faults)
}

func TestFaultBadInput(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	var c *chatConn
	for i, bad := range []string{"", "explode", "latency", "latency=x", "latency=5001", "close", "close=1005", "close=3000", "close=5000", "drop=0", "drop=101", "no_pong=1", "restart=1", "stall_reads=0"} {
		if i%5 == 0 { // a connection that keeps sending bad messages is closed after ten
			c = ts.joinFaulty(t, "lab", "ada")
			c.skipTo(shared.TypeUserList)
		}
		c.send(fault(bad))
		e := c.expect(shared.TypeError)
		require.Equal(t, shared.CodeBadRequest, e.Code, "fault %q: %s", bad, e.Content)
	}
	c.say("still here")
	require.Equal(t, "still here", c.expect(shared.TypeText).Content)
}

func TestFaultClose(t *testing.T) {
	for _, tc := range []struct {
		content string
		code    websocket.StatusCode
	}{{"close=4001", 4001}, {"close=1011", 1011}, {"restart", 1012}} {
		t.Run(tc.content, func(t *testing.T) {
			ts := startServer(t, faultConfig(t))
			c := ts.joinFaulty(t, "lab", "ada")
			c.joined()
			c.send(fault(tc.content))
			require.Equal(t, tc.content, c.expect(shared.TypeFault).Content)
			require.Equal(t, tc.code, c.closeStatus())
			eventually(t, "the fault counted", func() bool { return ts.Metrics().Read().Faults == 1 })
		})
	}
}

func TestFaultNoPongAndDrop(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	c := ts.joinFaulty(t, "lab", "ada")
	c.joined()
	c.send(shared.Message{Type: shared.TypePing, ID: "1"})
	require.Equal(t, "1", c.expect(shared.TypePong).ID)

	c.send(fault("drop=2"))
	c.expect(shared.TypeFault)
	c.say("dropped one")
	c.send(shared.Message{Type: shared.TypePing, ID: "2"})
	c.say("kept")
	require.Equal(t, "kept", c.expect(shared.TypeText).Content, "the two frames after drop=2 never reached the room")

	c.send(fault(shared.FaultNoPong))
	c.expect(shared.TypeFault)
	c.send(shared.Message{Type: shared.TypePing, ID: "3"})
	c.say("after the ping")
	require.Equal(t, "after the ping", c.expect(shared.TypeText).Content, "no pong before the next message")
}

func TestFaultLatency(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	c := ts.joinFaulty(t, "lab", "ada")
	c.joined()
	c.send(fault("latency=300"))
	c.expect(shared.TypeFault)
	start := time.Now()
	c.send(shared.Message{Type: shared.TypePing, ID: "1"})
	require.Equal(t, "1", c.expect(shared.TypePong).ID)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}

// A stalled reader is closed with 1008 "too slow" through the slow
// consumer path, while the others in the room keep receiving; it then
// resumes by seq with nothing lost.
func TestFaultStallReads(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	a := ts.joinFaulty(t, "lab", "ada")
	h, _ := a.joined()
	b := ts.joinChat(t, "lab", "bob")
	b.joined()
	a.skipTo(shared.TypeJoin)

	a.send(fault("stall_reads=4"))
	a.expect(shared.TypeFault)
	var last uint64
	for i := range 8 {
		b.say(fmt.Sprint("m", i))
		m := b.skipTo(shared.TypeText)
		require.Equal(t, fmt.Sprint("m", i), m.Content)
		last = m.Seq
	}
	require.Equal(t, websocket.StatusPolicyViolation, a.closeStatus())
	eventually(t, "the slow consumer counted", func() bool { return ts.Metrics().Read().TotalSlow >= 1 })

	r := ts.joinFaulty(t, "lab", "ada", "since", "0", "epoch", h.Epoch)
	hist := r.skipTo(shared.TypeHistory)
	var got []string
	for _, m := range hist.Messages {
		got = append(got, m.Content)
	}
	require.Equal(t, []string{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"}, got)
	require.Equal(t, last, hist.Messages[len(hist.Messages)-1].Seq)
}
