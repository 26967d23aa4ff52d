package main

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics is the server watching itself: every counter and gauge that the
// dashboard (/ws/dashboard) pushes and Prometheus (/metrics) scrapes.
//
// The values live in atomics and small mutex-guarded maps, updated on the
// hot paths with one atomic add and no allocation. Nothing is computed
// until someone looks: metrics is a [prometheus.Collector] that turns the
// current values into Prometheus metrics at scrape time, and the dashboard's
// sampler reads the same values with [metrics.read] and turns them into
// rates. So both show the same numbers, from one source.
//
// The registry is private (not prometheus.DefaultRegisterer): tests start
// many servers in one process, and each must count only its own traffic.
//
// # Prometheus metrics
//
// Names follow the Prometheus conventions: base units (seconds, bytes),
// _total on counters. The endpoint label is echo, chat, notifications or
// dashboard (each exists from the start, so it reports 0 until used); the
// reason label is the fixed reason that [server.reject] logs, in
// snake_case.
//
//	name                                          type       labels    meaning
//	wsplay_connections_open                       gauge      endpoint  WebSocket connections open now
//	wsplay_connections_accepted_total             counter    endpoint  WebSocket connections accepted (upgraded) since start
//	wsplay_messages_received_total                counter    endpoint  messages read from clients (data frames, not ping/pong/close)
//	wsplay_messages_sent_total                    counter    endpoint  messages written to clients (data frames)
//	wsplay_received_bytes_total                   counter    endpoint  bytes read from WebSocket connections after the handshake: frame headers, masks and control frames included
//	wsplay_sent_bytes_total                       counter    endpoint  bytes written to WebSocket connections after the handshake, the same way
//	wsplay_slow_consumer_disconnects_total        counter    endpoint  connections closed with 1008 "too slow" because their send queue was full
//	wsplay_fanout_latency_seconds                 histogram  endpoint  time from enqueue (a message handed to a connection's send queue) to the end of its write; for chat, the fan-out latency of a broadcast
//	wsplay_handshakes_rejected_total              counter    reason    requests to a WebSocket endpoint answered without an upgrade (403 origin, 400 not a handshake, 426 version, 503 shutting down …)
//	wsplay_http_requests_total                    counter              HTTP requests received, WebSocket handshakes included
//	wsplay_users_online                           gauge                distinct users with at least one connection (chat or notifications)
//	wsplay_chat_rooms                             gauge                chat rooms that exist now
//	wsplay_notifications_stored_total             counter              notifications accepted and stored
//	wsplay_notifications_delivered_total          counter              notifications written to a client connection (one per tab)
//	wsplay_dashboard_snapshots_conflated_total    counter              dashboard snapshots replaced by a newer one before a slow viewer took them
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
// shares, so a new endpoint gets it by calling [server.accept] and
// [server.serve]. Only facts that the endpoints alone know need a call:
//
//	connections_open, connections_accepted   sessionSet.add / sessionSet.remove (server.go)
//	messages_received, received_bytes        client.readPump and the connection's byte counter (client.go, wirebytes.go)
//	messages_sent, sent_bytes                client.writePump, client.flush and the byte counter
//	fanout_latency                           client.writePump and client.flush, for every message that went through client.enqueue
//	slow_consumer_disconnects                client.run, when enqueue closed the client for a full queue
//	handshakes_rejected                      server.reject
//	http_requests                            metrics.countRequests, the outermost handler (routes.go)
//	dashboard_snapshots_conflated            the dashboard sampler (dashboard.go)
//	users_online                             serveChat and serveNotifications: userConnected / userDisconnected, once per connection that has a user
//	chat_rooms                               newServer hands rooms.count to countRoomsWith; read at each sample and scrape
//	notifications_stored                     notifications (notify.go, through its notifyMetrics): notificationStored once per notification persisted
//	notifications_delivered                  notifications, the same way: notificationDelivered once per notification queued for a connection
//
// Every method is safe for concurrent use.
type metrics struct {
	reg   *prometheus.Registry
	start time.Time

	mu        sync.Mutex                // guards endpoints and rejected
	endpoints map[string]*endpointStats // by endpoint name; entries are never removed
	rejected  map[string]uint64         // handshakes rejected, by reason

	httpRequests  atomic.Uint64
	roomCount     func() int // set once before serving; nil reports 0
	notesStored   atomic.Uint64
	notesSent     atomic.Uint64
	conflated     atomic.Uint64
	usersMu       sync.Mutex     // guards users
	users         map[string]int // connections per online user
	usersOnlineN  atomic.Int64   // len(users), for readers that do not lock
	maxRejectKeys int            // bound on distinct reasons; later ones count as "other"
}

// knownEndpoints exist from the start, so that every metric reports 0 for
// them before their first connection.
var knownEndpoints = []string{"echo", "chat", "notifications", "dashboard"}

// knownRejectReasons are the reasons server.go and dashboard.go reject
// handshakes with. They report 0 from the start; a reason not listed here
// appears on its first use.
var knownRejectReasons = []string{
	"not a websocket handshake", "unsupported websocket version", "shutting down",
	"null origin", "malformed origin", "origin not allowed", "bad handshake", "bad interval",
}

func newMetrics() *metrics {
	m := &metrics{
		reg:           prometheus.NewRegistry(),
		start:         time.Now(),
		endpoints:     map[string]*endpointStats{},
		rejected:      map[string]uint64{},
		users:         map[string]int{},
		maxRejectKeys: 32,
	}
	for _, name := range knownEndpoints {
		m.endpoints[name] = newEndpointStats(name)
	}
	for _, reason := range knownRejectReasons {
		m.rejected[slug(reason)] = 0
	}
	m.reg.MustRegister(
		m,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// endpoint returns the counters of the named endpoint, creating them on
// first use. Connections keep the pointer, so their hot paths never lock.
func (m *metrics) endpoint(name string) *endpointStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.endpoints[name]
	if !ok {
		e = newEndpointStats(name)
		m.endpoints[name] = e
	}
	return e
}

// handshakeRejected counts a request to a WebSocket endpoint that was
// answered without an upgrade. reason must be one of a fixed set of
// strings chosen by the server, never client input: it becomes a label.
// Past a bound on distinct reasons, new ones count as "other".
func (m *metrics) handshakeRejected(reason string) {
	key := slug(reason)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rejected[key]; !ok && len(m.rejected) >= m.maxRejectKeys {
		key = "other"
	}
	m.rejected[key]++
}

// countRequests counts every HTTP request, then hands it on unchanged. It
// does not wrap the ResponseWriter, so WebSocket upgrades can still hijack
// the connection.
func (m *metrics) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.httpRequests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// userConnected counts a connection of user. Call it once per connection
// that has a user, and userDisconnected once when that connection ends;
// a user is online while they have at least one.
func (m *metrics) userConnected(user string) {
	m.usersMu.Lock()
	defer m.usersMu.Unlock()
	m.users[user]++
	m.usersOnlineN.Store(int64(len(m.users)))
}

// userDisconnected undoes one userConnected.
func (m *metrics) userDisconnected(user string) {
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

// countRoomsWith makes f the source of the number of chat rooms: it is
// called at every sample and scrape, so it must be quick and must not
// call back into metrics. Call it once, before the server serves.
func (m *metrics) countRoomsWith(f func() int) { m.roomCount = f }

// notificationStored counts a notification accepted and persisted.
func (m *metrics) notificationStored() { m.notesStored.Add(1) }

// notificationDelivered counts a notification handed to one connection.
func (m *metrics) notificationDelivered() { m.notesSent.Add(1) }

// snapshotConflated counts a dashboard snapshot that a newer one replaced
// before a viewer's writer took it.
func (m *metrics) snapshotConflated() { m.conflated.Add(1) }

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

// endpointStats are the counters of one endpoint. Each connection holds a
// pointer to its endpoint's stats. Methods are safe on a nil pointer, which
// counts nothing, so a client made without stats (in a unit test) works.
type endpointStats struct {
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

func newEndpointStats(name string) *endpointStats {
	return &endpointStats{name: name, fanout: newLatencyHistogram()}
}

func (e *endpointStats) opened() {
	if e != nil {
		e.accepted.Add(1)
		e.open.Add(1)
	}
}

func (e *endpointStats) closed() {
	if e != nil {
		e.open.Add(-1)
	}
}

// received counts a message read from a client.
func (e *endpointStats) received() {
	if e != nil {
		e.msgsIn.Add(1)
	}
}

// sent counts a message written to a client.
func (e *endpointStats) sent() {
	if e != nil {
		e.msgsOut.Add(1)
	}
}

// observeFanout records the time from a message's enqueue to the end of
// its write.
func (e *endpointStats) observeFanout(d time.Duration) {
	if e != nil {
		e.fanout.observe(d)
	}
}

// slowConsumer counts a client closed because its send queue was full.
func (e *endpointStats) slowConsumer() {
	if e != nil {
		e.slow.Add(1)
	}
}

// latencyBounds are the upper bounds, in seconds, of the fan-out latency
// histogram's buckets: 10 µs doubling up to about 10.5 s. Enqueue to write
// is microseconds on an idle server and grows to the write timeout when a
// peer stalls, so the range is wide and relative precision is what matters.
var latencyBounds = prometheus.ExponentialBuckets(10e-6, 2, 21)

// latencyHistogram counts durations into latencyBounds. Each observation
// is two atomic adds. It is a plain array rather than a
// prometheus.Histogram so that the dashboard can read bucket counts and
// compute quantiles from their change between two samples, the way
// PromQL's histogram_quantile(rate(...)) does.
type latencyHistogram struct {
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumNs  atomic.Int64
}

func newLatencyHistogram() latencyHistogram {
	return latencyHistogram{counts: make([]atomic.Uint64, len(latencyBounds)+1)}
}

func (h *latencyHistogram) observe(d time.Duration) {
	i, _ := slices.BinarySearch(latencyBounds, d.Seconds())
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// load returns the bucket counts (not cumulative, +Inf last) and the sum.
func (h *latencyHistogram) load() ([]uint64, time.Duration) {
	out := make([]uint64, len(h.counts))
	for i := range h.counts {
		out[i] = h.counts[i].Load()
	}
	return out, time.Duration(h.sumNs.Load())
}

// quantile returns the q-quantile (0 < q < 1), in seconds, of the
// observations counted in buckets (not cumulative, +Inf last), by linear
// interpolation inside the bucket that holds it, as PromQL's
// histogram_quantile does. It returns 0 when there are none. A quantile in
// the +Inf bucket is reported as the largest finite bound.
func quantile(q float64, buckets []uint64) float64 {
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
			if i == len(latencyBounds) {
				return latencyBounds[len(latencyBounds)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = latencyBounds[i-1]
			}
			hi := latencyBounds[i]
			return lo + (hi-lo)*(rank-cum)/float64(c)
		}
		cum += float64(c)
	}
	return latencyBounds[len(latencyBounds)-1]
}

// reading is every counter and gauge at one moment, as the dashboard's
// sampler sees it. Counters are cumulative since start; the sampler turns
// two readings into rates.
type reading struct {
	at            time.Time
	endpoints     []endpointReading // sorted by name
	httpRequests  uint64
	rejected      map[string]uint64
	usersOnline   int64
	rooms         int64
	notesStored   uint64
	notesSent     uint64
	conflated     uint64
	uptime        time.Duration
	totalOpen     int64
	totalSlow     uint64
	totalRejected uint64
}

type endpointReading struct {
	name                                               string
	open                                               int64
	accepted, msgsIn, msgsOut, bytesIn, bytesOut, slow uint64
	fanout                                             []uint64 // bucket counts, not cumulative
	fanoutSum                                          time.Duration
}

// read returns the current values. It allocates a little (the maps and
// slices it returns belong to the caller) and never blocks on a
// connection.
func (m *metrics) read() reading {
	r := reading{at: time.Now(), rejected: map[string]uint64{}}
	m.mu.Lock()
	eps := make([]*endpointStats, 0, len(m.endpoints))
	for _, e := range m.endpoints {
		eps = append(eps, e)
	}
	for k, v := range m.rejected {
		r.rejected[k] = v
		r.totalRejected += v
	}
	m.mu.Unlock()
	slices.SortFunc(eps, func(a, b *endpointStats) int { return strings.Compare(a.name, b.name) })
	for _, e := range eps {
		fan, sum := e.fanout.load()
		er := endpointReading{
			name: e.name, open: e.open.Load(), accepted: e.accepted.Load(),
			msgsIn: e.msgsIn.Load(), msgsOut: e.msgsOut.Load(),
			bytesIn: e.bytesIn.Load(), bytesOut: e.bytesOut.Load(),
			slow: e.slow.Load(), fanout: fan, fanoutSum: sum,
		}
		r.endpoints = append(r.endpoints, er)
		r.totalOpen += er.open
		r.totalSlow += er.slow
	}
	r.httpRequests = m.httpRequests.Load()
	r.usersOnline = m.usersOnlineN.Load()
	if m.roomCount != nil {
		r.rooms = int64(m.roomCount())
	}
	r.notesStored = m.notesStored.Load()
	r.notesSent = m.notesSent.Load()
	r.conflated = m.conflated.Load()
	r.uptime = r.at.Sub(m.start)
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
		"Connections closed with 1008 because their send queue was full.", []string{"endpoint"}, nil)
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
	descConflated = prometheus.NewDesc("wsplay_dashboard_snapshots_conflated_total",
		"Dashboard snapshots replaced by a newer one before a slow viewer took them.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descConnsOpen, descConnsAccepted, descMsgsIn, descMsgsOut, descBytesIn, descBytesOut,
		descSlow, descFanout, descRejected, descHTTP, descUsers, descRooms,
		descNotesStored, descNotesSent, descConflated,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reports the current values.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	r := m.read()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, e := range r.endpoints {
		gauge(descConnsOpen, e.open, e.name)
		counter(descConnsAccepted, e.accepted, e.name)
		counter(descMsgsIn, e.msgsIn, e.name)
		counter(descMsgsOut, e.msgsOut, e.name)
		counter(descBytesIn, e.bytesIn, e.name)
		counter(descBytesOut, e.bytesOut, e.name)
		counter(descSlow, e.slow, e.name)
		buckets := make(map[float64]uint64, len(latencyBounds))
		var cum uint64
		for i, bound := range latencyBounds {
			cum += e.fanout[i]
			buckets[bound] = cum
		}
		count := cum + e.fanout[len(latencyBounds)]
		ch <- prometheus.MustNewConstHistogram(descFanout, count, e.fanoutSum.Seconds(), buckets, e.name)
	}
	for reason, n := range r.rejected {
		counter(descRejected, n, reason)
	}
	counter(descHTTP, r.httpRequests)
	gauge(descUsers, r.usersOnline)
	gauge(descRooms, r.rooms)
	counter(descNotesStored, r.notesStored)
	counter(descNotesSent, r.notesSent)
	counter(descConflated, r.conflated)
}

// finite replaces NaN and infinities, which JSON cannot carry, with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
