package app

import (
	"net/url"
	"sync/atomic"
	"time"

	"wsplay/shared"
	"wsplay/shared/wire"
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

// ValueSpec is one current value the panel shows: a snapshot key (one of
// the shared.Metric keys, or one made with shared.EndpointKey) and its
// unit.
type ValueSpec struct {
	Key, Label string
	Unit       Unit
}

// optionalValues are left out while snapshots do not carry them (the
// cluster's, for a server on its own); the other values show "–".
var optionalValues = map[string]bool{shared.MetricClusterConnections: true, shared.MetricClusterNodes: true}

// DashboardValues are the current values the panel lists, in order.
var DashboardValues = []ValueSpec{
	{shared.MetricConnections, "Connections", UnitCount},
	{shared.MetricMessagesIn, "Messages in", UnitPerSec},
	{shared.MetricMessagesOut, "Messages out", UnitPerSec},
	{shared.MetricBytesIn, "Bytes in", UnitBytesPerSec},
	{shared.MetricBytesOut, "Bytes out", UnitBytesPerSec},
	{shared.MetricActiveUsers, "Users online", UnitCount},
	{shared.MetricRooms, "Chat rooms", UnitCount},
	{shared.MetricResponseTime, "Chat fan-out p50", UnitMillis},
	{shared.EndpointKey(shared.MetricFanoutP99, shared.EndpointChat), "Chat fan-out p99", UnitMillis},
	{shared.MetricRequests, "HTTP requests", UnitPerSec},
	{shared.MetricCPU, "CPU (all cores)", UnitPercent},
	{shared.MetricMemory, "Heap in use", UnitMiB},
	{shared.MetricGoroutines, "Goroutines", UnitCount},
	{shared.MetricGCPause, "Longest GC pause", UnitMillis},
	{shared.MetricSlowDisconnects, "Slow clients dropped", UnitCount},
	{shared.MetricRejected, "Handshakes rejected", UnitCount},
	{shared.MetricNotesStored, "Notifications stored", UnitCount},
	{shared.MetricNotesDelivered, "Notifications delivered", UnitCount},
	{shared.MetricConflated, "Snapshots skipped", UnitCount},
	{shared.MetricUptime, "Uptime", UnitSeconds},
	{shared.MetricClusterConnections, "Connections, all nodes", UnitCount},
	{shared.MetricClusterNodes, "Nodes", UnitCount},
}

// nodeValueKey is the key of the value that names the server's node,
// shown first when snapshots carry one.
const nodeValueKey = "node"

// DashboardCharts are the charts the panel draws, in order.
var DashboardCharts = []ChartSpec{
	{ID: "rates", Title: "Messages per second", Unit: UnitPerSec, Lines: []LineSpec{
		{shared.MetricMessagesIn, "in", "#00758f"},
		{shared.MetricMessagesOut, "out", "#d97706"},
	}},
	{ID: "connections", Title: "Open connections", Unit: UnitCount, Lines: []LineSpec{
		{shared.MetricConnections, "all", "#1d1d1f"},
		{shared.EndpointKey(shared.MetricConnections, shared.EndpointEcho), "echo", "#00758f"},
		{shared.EndpointKey(shared.MetricConnections, shared.EndpointChat), "chat", "#1a7f37"},
		{shared.EndpointKey(shared.MetricConnections, shared.EndpointNotifications), "notifications", "#8250df"},
		{shared.EndpointKey(shared.MetricConnections, shared.EndpointDashboard), "dashboard", "#d97706"},
	}},
	{ID: "latency", Title: "Fan-out latency, enqueue to write", Unit: UnitMillis, Lines: []LineSpec{
		{shared.EndpointKey(shared.MetricFanoutP50, shared.EndpointChat), "chat p50", "#1a7f37"},
		{shared.EndpointKey(shared.MetricFanoutP99, shared.EndpointChat), "chat p99", "#cf222e"},
		{shared.EndpointKey(shared.MetricFanoutP99, shared.EndpointEcho), "echo p99", "#00758f"},
	}},
	{ID: "heap", Title: "Heap in use", Unit: UnitMiB, Lines: []LineSpec{
		{shared.MetricMemory, "heap", "#8250df"},
	}},
	{ID: "goroutines", Title: "Goroutines", Unit: UnitCount, Lines: []LineSpec{
		{shared.MetricGoroutines, "goroutines", "#00758f"},
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
// says retrying cannot help or the user disconnected. The embedded socket
// keeps the connection; DialTimeout and Backoff are its fields, and
// Backoff is reset when a snapshot arrives. Its methods must be called on
// the loop, except RequestRedraw.
//
// The charts plot against each snapshot's server timestamp, never against
// the count of messages or frames: after the tab was in the background,
// or a reconnect, points land where their time says, and a gap in the data
// shows as a gap in the line.
type Dashboard struct {
	socket
	view     DashboardView
	baseURL  string // ws://host/ws/dashboard, without the query
	now      func() time.Time
	interval time.Duration // asked of the server; 0 means its default

	series  map[string]*series // by snapshot key
	latest  shared.DashboardData
	arrived time.Time     // client clock, when latest arrived
	spacing time.Duration // between the two newest snapshots, server clock

	redrawPending atomic.Bool
}

// NewDashboard returns a disconnected dashboard client for the socket at
// url (ws://host/ws/dashboard).
func NewDashboard(loop *Loop, view DashboardView, url string) *Dashboard {
	d := &Dashboard{view: view, baseURL: url, now: time.Now, series: map[string]*series{}}
	d.socket = newSocket(loop, d, 0) // it sends nothing but the heartbeat
	d.Backoff = Backoff{Min: 500 * time.Millisecond, Max: 15 * time.Second}
	// A refused request, such as a bad interval, would be refused again.
	d.refusalIsFinal = true
	for _, c := range DashboardCharts {
		for _, l := range c.Lines {
			d.series[l.Key] = newSeries(seriesCapacity)
		}
	}
	return d
}

// URL returns the socket URL with the interval asked for.
func (d *Dashboard) URL() string {
	if d.interval == 0 {
		return d.baseURL
	}
	return d.baseURL + "?interval=" + url.QueryEscape(d.interval.String())
}

func (d *Dashboard) url() string { return d.URL() }

// Toggle connects when not connected or trying to, and disconnects
// otherwise.
func (d *Dashboard) Toggle() {
	if d.active() {
		d.Disconnect()
	} else {
		d.Connect()
	}
}

// Connect connects, and keeps reconnecting until Disconnect.
func (d *Dashboard) Connect() {
	d.Backoff.Reset()
	d.connect()
}

// Disconnect closes the connection with 1000 and stops reconnecting.
func (d *Dashboard) Disconnect() { d.stop("disconnected") }

// SetInterval asks the server for snapshots every interval (one of
// shared.DashboardIntervals; 0 for the server's default), reconnecting
// if connected.
func (d *Dashboard) SetInterval(interval time.Duration) {
	if interval == d.interval {
		return
	}
	d.interval = interval
	if d.active() {
		d.Backoff.Reset()
		d.redial()
	}
}

// IntervalChoice is one entry of the dashboard's interval menu: Value is
// "" for the server's default, else a duration as ChooseInterval takes it.
type IntervalChoice struct {
	Value, Label string
}

// IntervalChoices are the entries of the interval menu: the server's
// default first, then shared.DashboardIntervals.
func IntervalChoices() []IntervalChoice {
	choices := []IntervalChoice{{"", "server default"}}
	for _, d := range shared.DashboardIntervals {
		choices = append(choices, IntervalChoice{d.String(), d.String()})
	}
	return choices
}

// ChooseInterval is SetInterval for the Value of an IntervalChoice.
func (d *Dashboard) ChooseInterval(value string) {
	interval, _ := time.ParseDuration(value) // "" is 0, the server's default
	d.SetInterval(interval)
}

func (d *Dashboard) opened() string { return "" }

// message draws a snapshot, stamped with its arrival time. The history
// comes in pages (shared.DashboardData): each page's History, then the
// page itself, are snapshots oldest first, recorded as they come.
func (d *Dashboard) message(data []byte) {
	at := d.now()
	snap, err := wire.DecodeDashboard(data)
	if err != nil {
		return // not a snapshot: nothing to draw
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
	if snap.More {
		return // a page of the history: drawn once the last has come
	}
	values := make([]Value, 0, len(DashboardValues)+1)
	if d.latest.Node != "" {
		values = append(values, Value{nodeValueKey, "Node", d.latest.Node})
	}
	for _, v := range DashboardValues {
		text := "–"
		x, ok := d.latest.Metrics[v.Key]
		switch {
		case ok:
			text = FormatValue(v.Unit, x)
		case optionalValues[v.Key]:
			continue
		}
		values = append(values, Value{v.Key, v.Label, text})
	}
	d.view.DashboardValues(values)
	d.Redraw(at)
}

func (d *Dashboard) ended(CloseInfo, bool) {}

func (d *Dashboard) showState(s ConnState, detail string) {
	d.view.DashboardState(s, detail, d.active())
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
