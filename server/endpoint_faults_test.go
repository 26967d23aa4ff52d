package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// The faults of chat (playground_faults_test.go) on notifications and
// the dashboard: the same requests, answered in each endpoint's words.

// notifyFault is the type of a fault's acknowledgement, as a tab reads it.
const notifyFault = shared.NotifyType(shared.TypeFault)

// faultNotify is a message of /ws/notifications, or the acknowledgement
// of a fault, a type the notification protocol proper lacks.
type faultNotify struct {
	shared.NotifyMessage
	Content string `json:"content"`
}

// faultTab is a test client of /ws/notifications that reads fault
// acknowledgements too.
type faultTab struct {
	*testConn[faultNotify]
}

func (ts *testServer) openFaultTab(t *testing.T, user string, extra ...string) *faultTab {
	t.Helper()
	conn := ts.dial(t, notifyQuery(user, extra...), nil)
	tab := &faultTab{newTestConn(t, conn, func(b []byte) (faultNotify, error) {
		var m faultNotify
		err := json.Unmarshal(b, &m)
		return m, err
	})}
	tab.skipTo(shared.NotifySynced)
	return tab
}

func (c *faultTab) expect(typ shared.NotifyType) faultNotify {
	c.t.Helper()
	m := c.next()
	require.Equal(c.t, typ, m.Type, "next message: %+v", m)
	return m
}

func (c *faultTab) skipTo(typ shared.NotifyType) faultNotify {
	c.t.Helper()
	for {
		if m := c.next(); m.Type == typ {
			return m
		}
	}
}

func (c *faultTab) fault(content string) { c.t.Helper(); c.sendJSON(fault(content)) }

func (c *faultTab) ping(id string) {
	c.t.Helper()
	c.sendRaw(websocket.MessageText, shared.EncodePing(id))
}

// closeReason is the close code and reason the connection ended with.
func (c *faultTab) closeReason() (websocket.StatusCode, string) {
	c.t.Helper()
	code := c.closeStatus()
	var ce websocket.CloseError
	if errors.As(c.err(), &ce) {
		return code, ce.Reason
	}
	return code, ""
}

func TestNotifyFaultsOffByDefault(t *testing.T) {
	ts := startServer(t, testConfig(t))
	tab := ts.openFaultTab(t, "ada")
	tab.fault(shared.FaultStallReads)
	e := tab.expect(shared.NotifyError)
	require.Equal(t, shared.CodeForbidden, e.Code)
	require.Equal(t, "fault injection is off; start the server with -playground-faults", e.Message)
	tab.ping("1")
	require.Equal(t, "1", tab.expect(shared.NotifyPong).ID)
	require.Zero(t, ts.Metrics().Read().Faults)
}

func TestNotifyFaultBadInput(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	tab := ts.openFaultTab(t, "ada")
	for _, bad := range []string{"", "explode", "latency=x", "close=3000", "stall_reads=0"} {
		tab.fault(bad)
		e := tab.expect(shared.NotifyError)
		require.Equal(t, shared.CodeBadRequest, e.Code, "fault %q: %s", bad, e.Message)
	}
	tab.ping("1")
	require.Equal(t, "1", tab.expect(shared.NotifyPong).ID)
	require.Zero(t, ts.Metrics().Read().Faults)
}

func TestNotifyFaultClose(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	tab := ts.openFaultTab(t, "ada")
	tab.fault("close=4001")
	require.Equal(t, "close=4001", tab.expect(notifyFault).Content)
	code, reason := tab.closeReason()
	require.Equal(t, websocket.StatusCode(4001), code)
	require.Equal(t, shared.ReasonFault, reason)
	eventually(t, "the fault counted", func() bool { return ts.Metrics().Read().Faults == 1 })
}

func TestNotifyFaultNoPongAndLatency(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	tab := ts.openFaultTab(t, "ada")

	tab.fault("latency=300")
	tab.expect(notifyFault)
	start := time.Now()
	tab.ping("1")
	require.Equal(t, "1", tab.expect(shared.NotifyPong).ID)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	tab.fault("latency=0")
	tab.expect(notifyFault)

	tab.fault(shared.FaultNoPong)
	tab.expect(notifyFault)
	tab.ping("2")
	tab.sendJSON(shared.NotifyMessage{Type: shared.NotifyMarkRead}) // answered with an error
	require.Equal(t, shared.CodeBadRequest, tab.expect(shared.NotifyError).Code, "no pong before the next answer")
	eventually(t, "the faults counted", func() bool { return ts.Metrics().Read().Faults == 3 })
}

// A stalled tab is closed with 1008 "too slow" once more notifications
// wait for it than its bound, and resumes by seq with nothing lost.
func TestNotifyFaultStallReads(t *testing.T) {
	ts := startServer(t, faultConfig(t))
	ada := ts.openFaultTab(t, "ada")
	bob := ts.openFaultTab(t, "bob")
	ada.fault("stall_reads=2")
	ada.expect(notifyFault)
	for range 3 { // the pokes' burst
		bob.sendJSON(shared.NotifyMessage{Type: shared.NotifyPoke, To: "ada"})
		bob.expect(shared.NotifyPoked)
	}
	code, reason := ada.closeReason()
	require.Equal(t, websocket.StatusPolicyViolation, code)
	require.Equal(t, shared.ReasonTooSlow, reason)

	again := ts.openTab(t, "ada", "since", "0")
	backlog, _ := again.synced()
	require.Len(t, backlog, 3)
	for _, n := range backlog {
		require.Equal(t, "bob", n.From)
	}
}

// dashMessage is what the dashboard sends besides its snapshots: the
// heartbeat's answers and errors, and fault acknowledgements.
type dashMessage struct {
	shared.Heartbeat
	Content string `json:"content"`
}

// dashNext returns the next message that is not a snapshot.
func dashNext(t *testing.T, ctx context.Context, c *websocket.Conn) dashMessage {
	t.Helper()
	for {
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		var m dashMessage
		require.NoError(t, json.Unmarshal(data, &m), "%s", data)
		if m.Type != "" {
			return m
		}
	}
}

// openDash connects a viewer and reads its first snapshot.
func openDash(t *testing.T, ts *testServer) (*websocket.Conn, context.Context) {
	t.Helper()
	c := ts.dial(t, "/ws/dashboard", nil)
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	readSnapshot(t, ctx, c)
	return c, ctx
}

func dashWrite(t *testing.T, ctx context.Context, c *websocket.Conn, b []byte) {
	t.Helper()
	require.NoError(t, c.Write(ctx, websocket.MessageText, b))
}

func dashFault(t *testing.T, ctx context.Context, c *websocket.Conn, content string) {
	t.Helper()
	b, err := json.Marshal(fault(content))
	require.NoError(t, err)
	dashWrite(t, ctx, c, b)
}

func dashFaultConfig(t *testing.T) Config {
	cfg := faultConfig(t)
	cfg.Dashboard.Interval = 50 * time.Millisecond
	return cfg
}

func TestDashboardFaultsOffByDefault(t *testing.T) {
	ts := startServer(t, dashConfig(t, 50*time.Millisecond))
	c, ctx := openDash(t, ts)
	dashFault(t, ctx, c, shared.FaultNoPong)
	e := dashNext(t, ctx, c)
	require.Equal(t, shared.HeartbeatError, e.Type)
	require.Equal(t, shared.CodeForbidden, e.Code)
	require.Equal(t, "fault injection is off; start the server with -playground-faults", e.Message)
	dashWrite(t, ctx, c, shared.EncodePing("d1"))
	require.Equal(t, dashMessage{Heartbeat: shared.Heartbeat{Type: shared.HeartbeatPong, ID: "d1"}}, dashNext(t, ctx, c))
	readSnapshot(t, ctx, c)
	require.Zero(t, ts.Metrics().Read().Faults)
}

func TestDashboardFaultBadInput(t *testing.T) {
	ts := startServer(t, dashFaultConfig(t))
	c, ctx := openDash(t, ts)
	for _, bad := range []string{"", "explode", "latency=x", "drop=101", "close=1005", "no_pong=1"} {
		dashFault(t, ctx, c, bad)
		e := dashNext(t, ctx, c)
		require.Equal(t, shared.HeartbeatError, e.Type, "fault %q", bad)
		require.Equal(t, shared.CodeBadRequest, e.Code, "fault %q: %s", bad, e.Message)
	}
	dashWrite(t, ctx, c, shared.EncodePing("d1"))
	require.Equal(t, "d1", dashNext(t, ctx, c).ID)
	readSnapshot(t, ctx, c)
	require.Zero(t, ts.Metrics().Read().Faults)
}

func TestDashboardFaultClose(t *testing.T) {
	for _, tc := range []struct {
		content string
		code    websocket.StatusCode
		reason  string
	}{{"close=4001", 4001, shared.ReasonFault}, {"restart", 1012, shared.ReasonRestart}} {
		t.Run(tc.content, func(t *testing.T) {
			ts := startServer(t, dashFaultConfig(t))
			c, ctx := openDash(t, ts)
			dashFault(t, ctx, c, tc.content)
			ack := dashNext(t, ctx, c)
			require.Equal(t, dashMessage{Heartbeat: shared.Heartbeat{Type: string(shared.TypeFault)}, Content: tc.content}, ack)
			code, reason := readClose(t, c)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.reason, reason)
			eventually(t, "the fault counted", func() bool { return ts.Metrics().Read().Faults == 1 })
		})
	}
}

func TestDashboardFaultNoPongAndDrop(t *testing.T) {
	ts := startServer(t, dashFaultConfig(t))
	c, ctx := openDash(t, ts)
	dashFault(t, ctx, c, "drop=1")
	require.Equal(t, "drop=1", dashNext(t, ctx, c).Content)
	dashWrite(t, ctx, c, shared.EncodePing("dropped"))
	dashWrite(t, ctx, c, shared.EncodePing("d1"))
	require.Equal(t, "d1", dashNext(t, ctx, c).ID, "the ping after drop=1 never reached the server")

	dashFault(t, ctx, c, shared.FaultNoPong)
	require.Equal(t, shared.FaultNoPong, dashNext(t, ctx, c).Content)
	dashWrite(t, ctx, c, shared.EncodePing("d2"))
	dashWrite(t, ctx, c, []byte(`{"type":"ping","id":"<b>"}`)) // answered with an error
	e := dashNext(t, ctx, c)
	require.Equal(t, shared.HeartbeatError, e.Type, "no pong before the next answer: %+v", e)
	readSnapshot(t, ctx, c) // the snapshots go on
	eventually(t, "the faults counted", func() bool { return ts.Metrics().Read().Faults == 2 })
}

// Latency delays the answers and the snapshots alike.
func TestDashboardFaultLatency(t *testing.T) {
	ts := startServer(t, dashFaultConfig(t))
	c, ctx := openDash(t, ts)
	dashFault(t, ctx, c, "latency=300")
	dashNext(t, ctx, c)
	acked := time.Now()
	dashWrite(t, ctx, c, shared.EncodePing("d1"))
	require.Equal(t, "d1", dashNext(t, ctx, c).ID)
	require.GreaterOrEqual(t, time.Since(acked), 300*time.Millisecond)
	for range 3 {
		d := readSnapshot(t, ctx, c)
		if d.Timestamp.Before(acked) {
			continue // taken before the fault, or waiting in the mailbox then
		}
		require.GreaterOrEqual(t, time.Since(d.Timestamp), 300*time.Millisecond, "a snapshot taken after the fault")
	}
}

// A stalled viewer's snapshots replace one another; only answers fill
// the queue's bound, and then the viewer is closed with 1008.
func TestDashboardFaultStallReads(t *testing.T) {
	ts := startServer(t, dashFaultConfig(t))
	c, ctx := openDash(t, ts)
	dashFault(t, ctx, c, "stall_reads=2")
	time.Sleep(300 * time.Millisecond) // snapshots conflate meanwhile; the viewer stays
	for _, id := range []string{"d1", "d2", "d3"} {
		dashWrite(t, ctx, c, shared.EncodePing(id))
	}
	code, reason := readClose(t, c)
	require.Equal(t, websocket.StatusPolicyViolation, code)
	require.Equal(t, shared.ReasonTooSlow, reason)
	require.Positive(t, ts.Metrics().Read().Conflated, "the snapshots the stall held back replaced one another")
}
