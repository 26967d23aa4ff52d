package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
)

// DashboardView shows the dashboard panel. Its methods are called on the
// loop.
type DashboardView interface {
	// DashboardState shows the connection state, and detail such as
	// "reconnecting in 1.2s" or why the server closed. active says the
	// client is connected or trying to be, so that a button can offer to
	// stop it.
	DashboardState(state ConnState, detail string, active bool)
	// DashboardValues shows the newest value of each of DashboardValues.
	DashboardValues(values []Value)
	// DashboardPlots draws the charts, one Plot per DashboardCharts entry.
	DashboardPlots(plots []Plot)
}

// Value is one current value as shown: Text has the number and its unit.
type Value struct {
	Key, Label, Text string
}

// ValueSpec is one current value the panel shows: a snapshot key (see the
// table in server/dashboard.go) and its unit.
type ValueSpec struct {
	Key, Label string
	Unit       Unit
}

// DashboardValues are the current values the panel lists, in order.
var DashboardValues = []ValueSpec{
	{"connections", "Connections", UnitCount},
	{"messages_in_per_sec", "Messages in", UnitPerSec},
	{"messages_out_per_sec", "Messages out", UnitPerSec},
	{"bytes_in_per_sec", "Bytes in", UnitBytesPerSec},
	{"bytes_out_per_sec", "Bytes out", UnitBytesPerSec},
	{"active_users", "Users online", UnitCount},
	{"rooms", "Chat rooms", UnitCount},
	{"response_time", "Chat fan-out p50", UnitMillis},
	{"fanout_p99_ms.chat", "Chat fan-out p99", UnitMillis},
	{"requests", "HTTP requests", UnitPerSec},
	{"cpu_usage", "CPU (all cores)", UnitPercent},
	{"memory_usage", "Heap in use", UnitMiB},
	{"goroutines", "Goroutines", UnitCount},
	{"gc_pause_ms", "Longest GC pause", UnitMillis},
	{"slow_consumer_disconnects", "Slow clients dropped", UnitCount},
	{"handshakes_rejected", "Handshakes rejected", UnitCount},
	{"notifications_stored", "Notifications stored", UnitCount},
	{"notifications_delivered", "Notifications delivered", UnitCount},
	{"snapshots_conflated", "Snapshots skipped", UnitCount},
	{"uptime_seconds", "Uptime", UnitSeconds},
}

// DashboardCharts are the charts the panel draws, in order.
var DashboardCharts = []ChartSpec{
	{ID: "rates", Title: "Messages per second", Unit: UnitPerSec, Lines: []LineSpec{
		{"messages_in_per_sec", "in", "#00758f"},
		{"messages_out_per_sec", "out", "#d97706"},
	}},
	{ID: "connections", Title: "Open connections", Unit: UnitCount, Lines: []LineSpec{
		{"connections", "all", "#1d1d1f"},
		{"connections.echo", "echo", "#00758f"},
		{"connections.chat", "chat", "#1a7f37"},
		{"connections.notifications", "notifications", "#8250df"},
		{"connections.dashboard", "dashboard", "#d97706"},
	}},
	{ID: "latency", Title: "Fan-out latency, enqueue to write", Unit: UnitMillis, Lines: []LineSpec{
		{"fanout_p50_ms.chat", "chat p50", "#1a7f37"},
		{"fanout_p99_ms.chat", "chat p99", "#cf222e"},
		{"fanout_p99_ms.echo", "echo p99", "#00758f"},
	}},
	{ID: "heap", Title: "Heap in use", Unit: UnitMiB, Lines: []LineSpec{
		{"memory_usage", "heap", "#8250df"},
	}},
	{ID: "goroutines", Title: "Goroutines", Unit: UnitCount, Lines: []LineSpec{
		{"goroutines", "goroutines", "#00758f"},
	}},
}

// ChartWindow is the time the charts span, ending at the newest snapshot.
const ChartWindow = 60 * time.Second

// seriesCapacity holds a chart window at the shortest interval, 100 ms,
// with room to spare.
const seriesCapacity = 1024

// Dashboard is the client of /ws/dashboard: it keeps the recent snapshots
// as time series and has them drawn. It reconnects with a jittered
// exponential backoff when the connection drops, unless the close code
// says retrying cannot help or the user disconnected. Its methods must be
// called on the loop, except RequestRedraw.
//
// The charts plot against each snapshot's server timestamp, never against
// the count of messages or frames: after the tab was in the background,
// or a reconnect, points land where their time says, and a gap in the data
// shows as a gap in the line.
type Dashboard struct {
	loop *Loop
	view DashboardView
	url  string // without the query
	now  func() time.Time
	// DialTimeout bounds a connection attempt. Default 10 s.
	DialTimeout time.Duration
	// Backoff spaces out reconnection attempts. It is reset when a
	// snapshot arrives, not when the dial succeeds, so that a server that
	// accepts and at once closes is not hammered.
	Backoff Backoff

	interval time.Duration // asked of the server; 0 means its default
	want     bool          // the user wants to be connected
	state    ConnState
	gen      int // counts connection attempts; events of older ones are ignored
	conn     *websocket.Conn
	retry    *time.Timer // a pending reconnect

	series  map[string]*series // by snapshot key
	latest  shared.DashboardData
	arrived time.Time     // client clock, when latest arrived
	spacing time.Duration // between the two newest snapshots, server clock

	redrawPending atomic.Bool
}

// NewDashboard returns a disconnected dashboard client for the socket at
// url (ws://host/ws/dashboard).
func NewDashboard(loop *Loop, view DashboardView, url string) *Dashboard {
	d := &Dashboard{
		loop: loop, view: view, url: url, now: time.Now, DialTimeout: dialTimeout,
		Backoff: Backoff{Min: 500 * time.Millisecond, Max: 15 * time.Second},
		series:  map[string]*series{},
	}
	for _, c := range DashboardCharts {
		for _, l := range c.Lines {
			d.series[l.Key] = newSeries(seriesCapacity)
		}
	}
	return d
}

// State returns the connection state.
func (d *Dashboard) State() ConnState { return d.state }

// URL returns the socket URL with the interval asked for.
func (d *Dashboard) URL() string {
	if d.interval == 0 {
		return d.url
	}
	return d.url + "?interval=" + url.QueryEscape(d.interval.String())
}

// Toggle connects when the user has not asked to, and disconnects
// otherwise.
func (d *Dashboard) Toggle() {
	if d.want {
		d.Disconnect()
	} else {
		d.Connect()
	}
}

// Connect connects, and keeps reconnecting until Disconnect.
func (d *Dashboard) Connect() {
	d.want = true
	d.Backoff.Reset()
	d.dial()
}

// SetInterval asks the server for snapshots every interval (one of
// shared.DashboardIntervals; 0 for the server's default), reconnecting
// if connected.
func (d *Dashboard) SetInterval(interval time.Duration) {
	if interval == d.interval {
		return
	}
	d.interval = interval
	if d.want {
		d.drop()
		d.Backoff.Reset()
		d.dial()
	}
}

func (d *Dashboard) dial() {
	d.stopRetry()
	d.gen++
	gen, u, timeout := d.gen, d.URL(), d.DialTimeout
	d.setState(Connecting, "")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, u, nil)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		d.loop.Post(func() { d.dialed(gen, conn, status, err) })
	}()
}

func (d *Dashboard) dialed(gen int, conn *websocket.Conn, status int, err error) {
	if gen != d.gen || !d.want {
		if conn != nil {
			conn.CloseNow()
		}
		return
	}
	if err != nil {
		if status >= 400 && status < 500 && status != 429 {
			// The server refused the request itself, such as a bad
			// interval: asking again would be refused again.
			d.want = false
			d.setState(Disconnected, fmt.Sprintf("refused with HTTP %d", status))
			return
		}
		d.reconnectLater("connect failed")
		return
	}
	// The first message carries up to 60 snapshots of about 2 KB.
	conn.SetReadLimit(1 << 20)
	d.conn = conn
	d.setState(Connected, "")
	go d.readLoop(gen, conn)
}

// readLoop is the connection's only reader. It decodes each snapshot off
// the loop and posts it, stamped with its arrival time.
func (d *Dashboard) readLoop(gen int, conn *websocket.Conn) {
	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			err = readCloseError(conn, err)
			d.loop.Post(func() { d.ended(gen, err) })
			return
		}
		var snap shared.DashboardData
		if err := json.Unmarshal(data, &snap); err != nil {
			continue // not a snapshot: nothing to draw
		}
		at := d.now()
		d.loop.Post(func() { d.received(gen, snap, at) })
	}
}

func (d *Dashboard) received(gen int, snap shared.DashboardData, at time.Time) {
	if gen != d.gen {
		return
	}
	d.Backoff.Reset()
	prev := d.latest.Timestamp
	for _, h := range snap.History {
		d.record(h)
		prev = h.Timestamp
	}
	if d.record(snap) {
		if !prev.IsZero() {
			d.spacing = snap.Timestamp.Sub(prev)
		}
		d.latest, d.arrived = snap, at
		d.latest.History = nil
	}
	values := make([]Value, len(DashboardValues))
	for i, v := range DashboardValues {
		text := "–"
		if x, ok := d.latest.Metrics[v.Key]; ok {
			text = FormatValue(v.Unit, x)
		}
		values[i] = Value{v.Key, v.Label, text}
	}
	d.view.DashboardValues(values)
	d.Redraw(at)
}

// record adds a snapshot's values to the series, and reports whether it
// was newer than every snapshot before.
func (d *Dashboard) record(snap shared.DashboardData) bool {
	added := false
	for key, s := range d.series {
		if v, ok := snap.Metrics[key]; ok && s.add(Point{snap.Timestamp, v}) {
			added = true
		}
	}
	return added
}

// Redraw lays out every chart for the moment now (client clock) and has
// the view draw them. The window ends at the newest snapshot's time plus
// the time since it arrived, up to one interval, so the charts scroll
// smoothly between snapshots and stop when none come.
func (d *Dashboard) Redraw(now time.Time) {
	end := d.latest.Timestamp
	if end.IsZero() {
		end = now
	} else {
		lead := d.spacing
		if lead <= 0 || lead > 10*time.Second {
			lead = time.Second
		}
		end = end.Add(min(max(now.Sub(d.arrived), 0), lead))
	}
	plots := make([]Plot, len(DashboardCharts))
	for i, c := range DashboardCharts {
		plots[i] = plot(c, d.series, end, ChartWindow)
	}
	d.view.DashboardPlots(plots)
}

// RequestRedraw asks for a Redraw on the loop. It is safe from any
// goroutine and never queues more than one: a timer that fires faster
// than the loop draws does not pile up work.
func (d *Dashboard) RequestRedraw() {
	if d.redrawPending.CompareAndSwap(false, true) {
		d.loop.Post(func() {
			d.redrawPending.Store(false)
			d.Redraw(d.now())
		})
	}
}

func (d *Dashboard) ended(gen int, err error) {
	if gen != d.gen {
		return
	}
	d.conn = nil
	info := closeInfo(err)
	detail := fmt.Sprintf("closed: %d %s", info.Code, info.Meaning)
	if d.want && info.Reconnect {
		d.reconnectLater(detail)
		return
	}
	d.want = false
	d.setState(Disconnected, detail)
}

// reconnectLater schedules the next attempt after the backoff.
func (d *Dashboard) reconnectLater(why string) {
	wait := d.Backoff.Next()
	gen := d.gen
	d.setState(Disconnected, fmt.Sprintf("%s; reconnecting in %v (attempt %d)", why, wait.Round(10*time.Millisecond), d.Backoff.Attempts()))
	d.retry = time.AfterFunc(wait, func() {
		d.loop.Post(func() {
			if gen == d.gen && d.want {
				d.retry = nil
				d.dial()
			}
		})
	})
}

func (d *Dashboard) stopRetry() {
	if d.retry != nil {
		d.retry.Stop()
		d.retry = nil
	}
}

// Disconnect closes the connection with 1000 and stops reconnecting.
func (d *Dashboard) Disconnect() {
	d.want = false
	d.drop()
	d.setState(Disconnected, "disconnected")
}

// drop ends the current connection or attempt, whatever its state; its
// events are ignored from now on.
func (d *Dashboard) drop() {
	d.stopRetry()
	d.gen++
	if conn := d.conn; conn != nil {
		d.conn = nil
		// Close waits for the server's answer, so it runs off the loop.
		go conn.Close(websocket.StatusNormalClosure, "")
	}
}

func (d *Dashboard) setState(s ConnState, detail string) {
	d.state = s
	d.view.DashboardState(s, detail, d.want)
}
