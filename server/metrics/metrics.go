// Package metrics is the server watching itself: every counter and gauge
// that the dashboard (/ws/dashboard) pushes and Prometheus (/metrics)
// scrapes, and the process readings (CPU, heap, goroutines, GC pauses)
// beside them.
//
// The values live in atomics and small mutex-guarded maps, updated on the
// hot paths with one atomic add and no allocation. Nothing is computed
// until someone looks: a [Metrics] is a [prometheus.Collector] that turns
// the current values into Prometheus metrics at scrape time, and the
// dashboard reads the same values with [Metrics.Read] and turns them into
// rates. So both show the same numbers, from one source.
//
// The registry is private (not prometheus.DefaultRegisterer): tests start
// many servers in one process, and each must count only its own traffic.
//
// Every method of [*Metrics] and [*Endpoint] is safe for concurrent use
// and on a nil receiver, which counts nothing: a package given no metrics
// still works.
//
// # Prometheus metrics
//
// Names follow the Prometheus conventions: base units (seconds, bytes),
// _total on counters. The endpoint label is one of [shared.Endpoints] (each
// exists from the start, so it reports 0 until used); the reason label is
// the fixed reason the admission gate refused a handshake for, in
// snake_case.
//
//	name                                          type       labels    meaning
//	wsplay_connections_open                       gauge      endpoint  WebSocket connections open now
//	wsplay_connections_accepted_total             counter    endpoint  WebSocket connections accepted (upgraded) since start
//	wsplay_messages_received_total                counter    endpoint  messages read from clients (data frames, not ping/pong/close)
//	wsplay_messages_sent_total                    counter    endpoint  messages written to clients (data frames)
//	wsplay_received_bytes_total                   counter    endpoint  bytes read from WebSocket connections after the handshake: frame headers, masks and control frames included
//	wsplay_sent_bytes_total                       counter    endpoint  bytes written to WebSocket connections after the handshake, the same way
//	wsplay_slow_consumer_disconnects_total        counter    endpoint  connections dropped as too slow: send queue full (1008) or a write timed out
//	wsplay_fanout_latency_seconds                 histogram  endpoint  time from enqueue (a message handed to a connection's send queue) to the end of its write; for chat, the fan-out latency of a broadcast
//	wsplay_handshakes_rejected_total              counter    reason    requests to a WebSocket endpoint answered without an upgrade (403 origin, 400 not a handshake, 426 version, 503 shutting down …)
//	wsplay_http_requests_total                    counter              HTTP requests received, WebSocket handshakes included
//	wsplay_users_online                           gauge                distinct users with at least one connection (chat or notifications)
//	wsplay_chat_rooms                             gauge                chat rooms that exist now
//	wsplay_notifications_stored_total             counter              notifications accepted and stored
//	wsplay_notifications_delivered_total          counter              notifications written to a client connection (one per tab)
//	wsplay_dashboard_snapshots_conflated_total    counter              dashboard snapshots replaced by a newer one before a slow viewer took them
//	wsplay_faults_injected_total                  counter              faults injected into connections at their clients' request (-playground-faults)
//
// The registry also carries the client library's standard collectors, so
// the process and runtime figures that the dashboard shows are scraped
// under their usual names:
//
//	process_cpu_seconds_total      process CPU time; the dashboard's cpu_usage is its rate
//	process_resident_memory_bytes  resident memory
//	process_start_time_seconds     start time; the dashboard's uptime_seconds counts from it
//	go_goroutines                  goroutines
//	go_memstats_heap_inuse_bytes   heap spans in use (the dashboard's memory_usage counts live object bytes instead)
//	go_gc_duration_seconds         GC pause summary; the dashboard's gc_pause_ms is the longest pause of each interval
//
// # Who feeds what
//
// Everything about connections is counted by code that every endpoint
// shares, so a new endpoint gets it by being admitted through the gate and
// run as a connection of package wsconn. Only facts that the endpoints
// alone know need a call:
//
//	connections_open, connections_accepted   the gate, as it registers and forgets a connection (Endpoint.Opened, Closed)
//	messages_received, received_bytes        the connection's reader and byte counter (Endpoint.Received, AddBytesIn)
//	messages_sent, sent_bytes                the connection's writer and byte counter (Endpoint.Sent, AddBytesOut)
//	fanout_latency                           the connection's writer, for every message that went through the send queue (Endpoint.ObserveFanout)
//	slow_consumer_disconnects                the connection, when its queue was full or a write timed out (Endpoint.SlowConsumer)
//	handshakes_rejected                      the gate (HandshakeRejected)
//	http_requests                            CountRequests, the outermost handler
//	dashboard_snapshots_conflated            the dashboard's samplers (SnapshotConflated)
//	faults_injected                          chat, notifications and the dashboard, for each fault a client asked of its own connection (FaultInjected)
//	users_online                             chat and notifications: UserConnected / UserDisconnected, once per connection that has a user
//	chat_rooms                               the function given to CountRoomsWith; read at each sample and scrape
//	notifications_stored                     notifications: NotificationStored once per notification persisted
//	notifications_delivered                  notifications: NotificationDelivered once per notification queued for a connection
package metrics

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wsplay/shared"
)

// Metrics holds the counters of one server. Make it with [New].
type Metrics struct {
	reg   *prometheus.Registry
	start time.Time

	mu        sync.Mutex           // guards endpoints and rejected
	endpoints map[string]*Endpoint // by endpoint name; entries are never removed
	rejected  map[string]uint64    // handshakes rejected, by reason

	httpRequests  atomic.Uint64
	roomCount     atomic.Pointer[func() int] // nil reports 0
	notesStored   atomic.Uint64
	notesSent     atomic.Uint64
	conflated     atomic.Uint64
	faults        atomic.Uint64
	usersMu       sync.Mutex     // guards users
	users         map[string]int // connections per online user
	usersOnlineN  atomic.Int64   // len(users), for readers that do not lock
	maxRejectKeys int            // bound on distinct reasons; later ones count as "other"
}

// New returns metrics with every endpoint of [shared.Endpoints] at zero.
func New() *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		start:         time.Now(),
		endpoints:     map[string]*Endpoint{},
		rejected:      map[string]uint64{},
		users:         map[string]int{},
		maxRejectKeys: 32,
	}
	for _, name := range shared.Endpoints {
		m.endpoints[name] = newEndpoint(name)
	}
	m.reg.MustRegister(
		m,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Endpoint returns the counters of the named endpoint, creating them on
// first use. Connections keep the pointer, so their hot paths never lock.
func (m *Metrics) Endpoint(name string) *Endpoint {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.endpoints[name]
	if !ok {
		e = newEndpoint(name)
		m.endpoints[name] = e
	}
	return e
}

// DeclareRejectReasons makes each reason report 0 until a handshake is
// refused for it, so that a dashboard shows every reason from the start.
func (m *Metrics) DeclareRejectReasons(reasons ...string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range reasons {
		key := slug(r)
		if _, ok := m.rejected[key]; !ok && len(m.rejected) < m.maxRejectKeys {
			m.rejected[key] = 0
		}
	}
}

// HandshakeRejected counts a request to a WebSocket endpoint that was
// answered without an upgrade. reason must be one of a fixed set of
// strings chosen by the server, never client input: it becomes a label.
// Past a bound on distinct reasons, new ones count as "other".
func (m *Metrics) HandshakeRejected(reason string) {
	if m == nil {
		return
	}
	key := slug(reason)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rejected[key]; !ok && len(m.rejected) >= m.maxRejectKeys {
		key = "other"
	}
	m.rejected[key]++
}

// CountRequests counts every HTTP request, then hands it on unchanged. It
// does not wrap the ResponseWriter, so WebSocket upgrades can still hijack
// the connection.
func (m *Metrics) CountRequests(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.httpRequests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// UserConnected counts a connection of user. Call it once per connection
// that has a user, and UserDisconnected once when that connection ends;
// a user is online while they have at least one.
func (m *Metrics) UserConnected(user string) {
	if m == nil {
		return
	}
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	m.users[user]++
	m.usersOnlineN.Store(int64(len(m.users)))
}

// UserDisconnected undoes one UserConnected.
func (m *Metrics) UserDisconnected(user string) {
	if m == nil {
		return
	}
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	switch n := m.users[user]; {
	case n > 1:
		m.users[user] = n - 1
	case n == 1:
		delete(m.users, user)
	}
	m.usersOnlineN.Store(int64(len(m.users)))
}

// CountRoomsWith makes f the source of the number of chat rooms: it is
// called at every sample and scrape, so it must be quick and must not
// call back into the metrics.
func (m *Metrics) CountRoomsWith(f func() int) {
	if m != nil {
		m.roomCount.Store(&f)
	}
}

// NotificationStored counts a notification accepted and persisted.
func (m *Metrics) NotificationStored() {
	if m != nil {
		m.notesStored.Add(1)
	}
}

// NotificationDelivered counts a notification handed to one connection.
func (m *Metrics) NotificationDelivered() {
	if m != nil {
		m.notesSent.Add(1)
	}
}

// SnapshotConflated counts a dashboard snapshot that a newer one replaced
// before a viewer's writer took it.
func (m *Metrics) SnapshotConflated() {
	if m != nil {
		m.conflated.Add(1)
	}
}

// FaultInjected counts a fault a client asked of its own connection
// (shared.TypeFault, on a server run with -playground-faults).
func (m *Metrics) FaultInjected() {
	if m != nil {
		m.faults.Add(1)
	}
}

// slug turns a reason such as "origin not allowed" into a label value
// such as origin_not_allowed.
func slug(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// Endpoint holds the counters of one endpoint. Each connection holds a
// pointer to its endpoint's counters. Its methods are safe on a nil
// pointer, which counts nothing.
type Endpoint struct {
	name     string
	open     atomic.Int64
	accepted atomic.Uint64
	msgsIn   atomic.Uint64
	msgsOut  atomic.Uint64
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	slow     atomic.Uint64
	fanout   latencyHistogram
}

func newEndpoint(name string) *Endpoint {
	return &Endpoint{name: name, fanout: newLatencyHistogram()}
}

// Opened counts a connection accepted and now open.
func (e *Endpoint) Opened() {
	if e != nil {
		e.accepted.Add(1)
		e.open.Add(1)
	}
}

// Closed counts an open connection gone.
func (e *Endpoint) Closed() {
	if e != nil {
		e.open.Add(-1)
	}
}

// Received counts a message read from a client.
func (e *Endpoint) Received() {
	if e != nil {
		e.msgsIn.Add(1)
	}
}

// Sent counts a message written to a client.
func (e *Endpoint) Sent() {
	if e != nil {
		e.msgsOut.Add(1)
	}
}

// AddBytesIn counts bytes read from a connection, as they arrive on the
// wire.
func (e *Endpoint) AddBytesIn(n int) {
	if e != nil && n > 0 {
		e.bytesIn.Add(uint64(n))
	}
}

// AddBytesOut counts bytes written to a connection.
func (e *Endpoint) AddBytesOut(n int) {
	if e != nil && n > 0 {
		e.bytesOut.Add(uint64(n))
	}
}

// ObserveFanout records the time from a message's enqueue to the end of
// its write.
func (e *Endpoint) ObserveFanout(d time.Duration) {
	if e != nil {
		e.fanout.observe(d)
	}
}

// Tally gathers what one write sent — messages and their fan-out
// latencies — for [Endpoint.AddTally] to count at once: a write of many
// messages then costs a few atomic adds on the endpoint's shared
// counters, not three per message. Its zero value is empty.
type Tally struct {
	sent    uint64
	sumNs   int64
	buckets [len(latencyBounds) + 1]uint32
}

// Sent counts a message sent.
func (t *Tally) Sent() { t.sent++ }

// ObserveFanout records a message's time from enqueue to the end of its
// write, as Endpoint.ObserveFanout does.
func (t *Tally) ObserveFanout(d time.Duration) {
	t.buckets[bucket(d)]++
	t.sumNs += int64(d)
}

// AddTally counts what t gathered, as Sent and ObserveFanout would have.
func (e *Endpoint) AddTally(t *Tally) {
	if e == nil {
		return
	}
	if t.sent > 0 {
		e.msgsOut.Add(t.sent)
	}
	observed := false
	for i, n := range t.buckets {
		if n > 0 {
			e.fanout.counts[i].Add(uint64(n))
			observed = true
		}
	}
	if observed {
		e.fanout.sumNs.Add(t.sumNs)
	}
}

// SlowConsumer counts a client dropped as too slow: its send queue was
// full (it is closed with 1008), or a write to it did not finish within
// the write timeout (it is hung up).
func (e *Endpoint) SlowConsumer() {
	if e != nil {
		e.slow.Add(1)
	}
}

// LatencyBounds are the upper bounds, in seconds, of the fan-out latency
// histogram's buckets: 10 µs doubling up to about 10.5 s. Enqueue to write
// is microseconds on an idle server and grows to the write timeout when a
// peer stalls, so the range is wide and relative precision is what matters.
var LatencyBounds = prometheus.ExponentialBuckets(10e-6, 2, len(latencyBounds))

// latencyBounds sizes LatencyBounds, so that a Tally's array matches it.
var latencyBounds [21]struct{}

// latencyHistogram counts durations into LatencyBounds. Each observation
// is two atomic adds. It is a plain array rather than a
// prometheus.Histogram so that the dashboard can read bucket counts and
// compute quantiles from their change between two samples, the way
// PromQL's histogram_quantile(rate(...)) does.
type latencyHistogram struct {
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumNs  atomic.Int64
}

func newLatencyHistogram() latencyHistogram {
	return latencyHistogram{counts: make([]atomic.Uint64, len(LatencyBounds)+1)}
}

func (h *latencyHistogram) observe(d time.Duration) {
	h.counts[bucket(d)].Add(1)
	h.sumNs.Add(int64(d))
}

// bucket returns the index of d's bucket in LatencyBounds (the last, +Inf,
// is len(LatencyBounds)).
func bucket(d time.Duration) int {
	i, _ := slices.BinarySearch(LatencyBounds, d.Seconds())
	return i
}

// load returns the bucket counts (not cumulative, +Inf last) and the sum.
func (h *latencyHistogram) load() ([]uint64, time.Duration) {
	out := make([]uint64, len(h.counts))
	for i := range h.counts {
		out[i] = h.counts[i].Load()
	}
	return out, time.Duration(h.sumNs.Load())
}

// Quantile returns the q-Quantile (0 < q < 1), in seconds, of the
// observations counted in buckets (not cumulative, +Inf last), by linear
// interpolation inside the bucket that holds it, as PromQL's
// histogram_quantile does. It returns 0 when there are none. A Quantile in
// the +Inf bucket is reported as the largest finite bound.
func Quantile(q float64, buckets []uint64) float64 {
	var total uint64
	for _, c := range buckets {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum float64
	for i, c := range buckets {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= rank {
			if i == len(LatencyBounds) {
				return LatencyBounds[len(LatencyBounds)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = LatencyBounds[i-1]
			}
			hi := LatencyBounds[i]
			return lo + (hi-lo)*(rank-cum)/float64(c)
		}
		cum += float64(c)
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// Reading is every counter and gauge at one moment, as the dashboard
// sees it. Counters are cumulative since start; the dashboard turns two
// readings into rates.
type Reading struct {
	At            time.Time
	Endpoints     []EndpointReading // sorted by name
	HTTPRequests  uint64
	Rejected      map[string]uint64 // by reason label
	UsersOnline   int64
	Rooms         int64
	NotesStored   uint64
	NotesSent     uint64
	Conflated     uint64
	Faults        uint64 // faults injected at clients' request, since start
	Uptime        time.Duration
	TotalOpen     int64  // connections open, all endpoints
	TotalSlow     uint64 // slow consumers dropped, all endpoints
	TotalRejected uint64 // handshakes refused, all reasons
}

// EndpointReading is one endpoint's counters in a [Reading].
type EndpointReading struct {
	Name                                               string
	Open                                               int64
	Accepted, MsgsIn, MsgsOut, BytesIn, BytesOut, Slow uint64
	Fanout                                             []uint64 // bucket counts of LatencyBounds, not cumulative, +Inf last
	FanoutSum                                          time.Duration
}

// Read returns the endpoint's counters now; a nil Endpoint reads as zero.
func (e *Endpoint) Read() EndpointReading {
	if e == nil {
		return EndpointReading{}
	}
	fan, sum := e.fanout.load()
	return EndpointReading{
		Name: e.name, Open: e.open.Load(), Accepted: e.accepted.Load(),
		MsgsIn: e.msgsIn.Load(), MsgsOut: e.msgsOut.Load(),
		BytesIn: e.bytesIn.Load(), BytesOut: e.bytesOut.Load(),
		Slow: e.slow.Load(), Fanout: fan, FanoutSum: sum,
	}
}

// FindEndpoint returns the reading of the named endpoint, or a zero one
// if it did not exist yet.
func (r Reading) FindEndpoint(name string) EndpointReading {
	for _, e := range r.Endpoints {
		if e.Name == name {
			return e
		}
	}
	return EndpointReading{Name: name}
}

// Read returns the current values. It allocates a little (the maps and
// slices it returns belong to the caller) and never blocks on a
// connection. A nil Metrics reads as zero.
func (m *Metrics) Read() Reading {
	r := Reading{At: time.Now(), Rejected: map[string]uint64{}}
	if m == nil {
		return r
	}
	m.mu.Lock()
	eps := make([]*Endpoint, 0, len(m.endpoints))
	for _, e := range m.endpoints {
		eps = append(eps, e)
	}
	for k, v := range m.rejected {
		r.Rejected[k] = v
		r.TotalRejected += v
	}
	m.mu.Unlock()
	slices.SortFunc(eps, func(a, b *Endpoint) int { return strings.Compare(a.name, b.name) })
	for _, e := range eps {
		er := e.Read()
		r.Endpoints = append(r.Endpoints, er)
		r.TotalOpen += er.Open
		r.TotalSlow += er.Slow
	}
	r.HTTPRequests = m.httpRequests.Load()
	r.UsersOnline = m.usersOnlineN.Load()
	if f := m.roomCount.Load(); f != nil {
		r.Rooms = int64((*f)())
	}
	r.NotesStored = m.notesStored.Load()
	r.NotesSent = m.notesSent.Load()
	r.Conflated = m.conflated.Load()
	r.Faults = m.faults.Load()
	r.Uptime = r.At.Sub(m.start)
	return r
}

// The descriptions of the metrics that metrics collects itself.
var (
	descConnsOpen = prometheus.NewDesc("wsplay_connections_open",
		"WebSocket connections open now.", []string{"endpoint"}, nil)
	descConnsAccepted = prometheus.NewDesc("wsplay_connections_accepted_total",
		"WebSocket connections accepted (upgraded) since start.", []string{"endpoint"}, nil)
	descMsgsIn = prometheus.NewDesc("wsplay_messages_received_total",
		"WebSocket messages read from clients (data frames).", []string{"endpoint"}, nil)
	descMsgsOut = prometheus.NewDesc("wsplay_messages_sent_total",
		"WebSocket messages written to clients (data frames).", []string{"endpoint"}, nil)
	descBytesIn = prometheus.NewDesc("wsplay_received_bytes_total",
		"Bytes read from WebSocket connections after the handshake, frame headers and control frames included.", []string{"endpoint"}, nil)
	descBytesOut = prometheus.NewDesc("wsplay_sent_bytes_total",
		"Bytes written to WebSocket connections after the handshake, frame headers and control frames included.", []string{"endpoint"}, nil)
	descSlow = prometheus.NewDesc("wsplay_slow_consumer_disconnects_total",
		"Connections dropped as too slow: closed with 1008 for a full send queue, or hung up when a write timed out.", []string{"endpoint"}, nil)
	descFanout = prometheus.NewDesc("wsplay_fanout_latency_seconds",
		"Time from a message's enqueue to the end of its write to the connection.", []string{"endpoint"}, nil)
	descRejected = prometheus.NewDesc("wsplay_handshakes_rejected_total",
		"Requests to WebSocket endpoints answered without an upgrade, by reason.", []string{"reason"}, nil)
	descHTTP = prometheus.NewDesc("wsplay_http_requests_total",
		"HTTP requests received, WebSocket handshakes included.", nil, nil)
	descUsers = prometheus.NewDesc("wsplay_users_online",
		"Distinct users with at least one connection.", nil, nil)
	descRooms = prometheus.NewDesc("wsplay_chat_rooms",
		"Chat rooms that exist now.", nil, nil)
	descNotesStored = prometheus.NewDesc("wsplay_notifications_stored_total",
		"Notifications accepted and stored.", nil, nil)
	descNotesSent = prometheus.NewDesc("wsplay_notifications_delivered_total",
		"Notifications written to a client connection, one per tab.", nil, nil)
	descFaults = prometheus.NewDesc("wsplay_faults_injected_total",
		"Faults injected into connections at their clients' request (-playground-faults).", nil, nil)
	descConflated = prometheus.NewDesc("wsplay_dashboard_snapshots_conflated_total",
		"Dashboard snapshots replaced by a newer one before a slow viewer took them.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descConnsOpen, descConnsAccepted, descMsgsIn, descMsgsOut, descBytesIn, descBytesOut,
		descSlow, descFanout, descRejected, descHTTP, descUsers, descRooms,
		descNotesStored, descNotesSent, descConflated, descFaults,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reports the current values.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	r := m.Read()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, e := range r.Endpoints {
		gauge(descConnsOpen, e.Open, e.Name)
		counter(descConnsAccepted, e.Accepted, e.Name)
		counter(descMsgsIn, e.MsgsIn, e.Name)
		counter(descMsgsOut, e.MsgsOut, e.Name)
		counter(descBytesIn, e.BytesIn, e.Name)
		counter(descBytesOut, e.BytesOut, e.Name)
		counter(descSlow, e.Slow, e.Name)
		buckets := make(map[float64]uint64, len(LatencyBounds))
		var cum uint64
		for i, bound := range LatencyBounds {
			cum += e.Fanout[i]
			buckets[bound] = cum
		}
		count := cum + e.Fanout[len(LatencyBounds)]
		ch <- prometheus.MustNewConstHistogram(descFanout, count, e.FanoutSum.Seconds(), buckets, e.Name)
	}
	for reason, n := range r.Rejected {
		counter(descRejected, n, reason)
	}
	counter(descHTTP, r.HTTPRequests)
	gauge(descUsers, r.UsersOnline)
	gauge(descRooms, r.Rooms)
	counter(descNotesStored, r.NotesStored)
	counter(descNotesSent, r.NotesSent)
	counter(descConflated, r.Conflated)
	counter(descFaults, r.Faults)
}
