package main

import (
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// serveDashboard handles GET /ws/dashboard: it pushes a snapshot of the
// server's own metrics, a [shared.DashboardData], once per interval.
//
// The interval is Config.DashboardInterval unless the request asks for
// one of [shared.DashboardIntervals] with ?interval=; any other value gets
// 400 before the upgrade. Each interval in use has one sampler goroutine,
// which reads the metrics, computes the snapshot and encodes it once, as a
// websocket.PreparedMessage, for all its viewers. The first message a
// viewer gets is the newest snapshot with the ones before it in History.
//
// Latest value wins. A viewer does not use the send queue that closes a
// slow client (client.enqueue): its writePump takes snapshots from a
// one-slot mailbox, and the sampler replaces a snapshot still waiting there
// with the newer one (viewer.offer). So a viewer that reads slowly gets the
// newest snapshot when it is ready, the server holds at most one pending
// snapshot per viewer, and the sampler never waits for anyone. A viewer
// that takes nothing at all is dropped by the write timeout, like any
// other client.
//
// The endpoint is push-only but still reads, for ping, pong and close. Text
// from the viewer is ignored; a binary frame closes with 1003.
//
// # Snapshot keys
//
// Every key of DashboardData.Metrics, with its unit. <endpoint> is echo,
// chat, notifications or dashboard; <reason> is a reason label of
// wsplay_handshakes_rejected_total (see metrics). Rates are per second over
// the last interval; "since start" values are cumulative counts. The
// first five keys are the names the well-known dashboard tutorial uses,
// here with real values.
//
//	key                              unit         meaning
//	cpu_usage                        %            CPU time the process used in the last interval (the last half second if the interval is shorter), as a share of all cores (0-100; 50 on a 2-core machine is one core busy)
//	memory_usage                     MiB          heap in use: live and not yet swept heap objects (runtime/metrics /memory/classes/heap/objects:bytes)
//	requests                         requests/s   HTTP requests, WebSocket handshakes included
//	active_users                     users        distinct users online on chat and notifications (0 while no endpoint reports users)
//	response_time                    ms           chat fan-out latency, median: the same as fanout_p50_ms.chat
//	connections                      connections  WebSocket connections open now, all endpoints
//	connections.<endpoint>           connections  WebSocket connections open now on the endpoint
//	messages_in_per_sec              messages/s   messages read from clients, all endpoints
//	messages_in_per_sec.<endpoint>   messages/s   messages read from the endpoint's clients
//	messages_out_per_sec             messages/s   messages written to clients, all endpoints
//	messages_out_per_sec.<endpoint>  messages/s   messages written to the endpoint's clients
//	bytes_in_per_sec                 B/s          bytes read from WebSocket connections (wire bytes: frame headers and control frames included), all endpoints
//	bytes_in_per_sec.<endpoint>      B/s          the same, one endpoint
//	bytes_out_per_sec                B/s          bytes written to WebSocket connections, all endpoints
//	bytes_out_per_sec.<endpoint>     B/s          the same, one endpoint
//	fanout_p50_ms.<endpoint>         ms           median time from enqueue to the end of the write, over the last 10 intervals; 0 when nothing was sent
//	fanout_p99_ms.<endpoint>         ms           99th percentile of the same
//	rooms                            rooms        chat rooms that exist now
//	slow_consumer_disconnects        connections  closed with 1008 for a full send queue, since start
//	handshakes_rejected              requests     WebSocket handshakes refused, all reasons, since start
//	handshakes_rejected.<reason>     requests     WebSocket handshakes refused for the reason, since start
//	notifications_stored             notes        notifications stored, since start
//	notifications_delivered          notes        notifications written to a connection, since start
//	snapshots_conflated              snapshots    dashboard snapshots a slow viewer skipped, since start
//	goroutines                       goroutines   goroutines now
//	gc_pause_ms                      ms           longest GC stop-the-world pause in the last interval (its histogram bucket's upper bound); 0 when no GC ran
//	uptime_seconds                   s            time since the server started
//
// Values are rounded to three decimals.
func (s *server) serveDashboard(w http.ResponseWriter, r *http.Request) {
	// A viewer has no name of its own; with -require-auth it needs a
	// token like every endpoint (the page's login cookie does).
	interval := s.cfg.DashboardInterval
	c, _ := s.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointDashboard,
		Check: func(r *http.Request, _ string) (func(), *gate.Refusal) {
			if q := r.URL.Query(); q.Has("interval") {
				d, err := shared.ParseDashboardInterval(q.Get("interval"))
				if err != nil {
					return nil, gate.Refuse(http.StatusBadRequest, "bad interval", err.Error())
				}
				interval = d
			}
			return nil, nil
		},
	})
	if c == nil {
		return
	}
	v := &viewer{mailbox: make(chan *websocket.PreparedMessage, 1)}
	c.SetLatest(v.mailbox)
	s.dashboard.join(v, interval)
	defer s.dashboard.leave(v)
	c.Run(func(typ int, _ []byte) error {
		if typ == websocket.BinaryMessage {
			c.Close(websocket.CloseUnsupportedData, shared.ReasonBinary)
			return wsconn.ErrClosedByServer
		}
		return nil // a viewer has nothing to say
	})
}

// latencyWindow is how many intervals the fan-out quantiles cover: 10 s at
// the default interval. Chat messages are sparse, so a single interval
// would mostly hold none.
const latencyWindow = 10

// dashboard owns the samplers, one per interval in use. A sampler starts
// with its first viewer and stops when its last one leaves; on shutdown
// that happens as sessionSet.shutdown closes every viewer.
type dashboard struct {
	m   *metrics.Metrics
	log *slog.Logger

	mu       sync.Mutex // guards samplers; taken before any sampler.mu
	samplers map[time.Duration]*sampler
	wg       sync.WaitGroup // one count per running sampler
}

func newDashboard(m *metrics.Metrics, log *slog.Logger) *dashboard {
	return &dashboard{m: m, log: log, samplers: map[time.Duration]*sampler{}}
}

// join adds v to the sampler of interval, starting one if none runs.
func (d *dashboard) join(v *viewer, interval time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.samplers[interval]
	if s == nil {
		s = &sampler{
			d: d, interval: interval, wake: make(chan struct{}, 1),
			viewers: map[*viewer]struct{}{}, proc: metrics.NewProcessReader(),
		}
		d.samplers[interval] = s
		d.wg.Add(1)
		go s.run()
		d.log.Debug("dashboard sampler started", "interval", interval)
	}
	v.s = s
	s.mu.Lock()
	s.viewers[v] = struct{}{}
	s.mu.Unlock()
	s.poke() // greet v now, not at the next tick
}

// leave removes v; its sampler stops if v was the last.
func (d *dashboard) leave(v *viewer) {
	v.s.mu.Lock()
	delete(v.s.viewers, v)
	v.s.mu.Unlock()
	v.s.poke()
}

// retire removes s if it has no viewers, and reports whether it did. Under
// d.mu, so that a join either finds s with its new viewer or starts anew.
func (d *dashboard) retire(s *sampler) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.viewers) > 0 {
		return false
	}
	delete(d.samplers, s.interval)
	return true
}

// wait returns when no sampler runs. Call it after every viewer's
// connection has ended, as server.shutdown does.
func (d *dashboard) wait() { d.wg.Wait() }

// running returns how many samplers run.
func (d *dashboard) running() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.samplers)
}

// viewer is one dashboard connection as its sampler sees it.
type viewer struct {
	// mailbox is the client's latest channel, with room for one message.
	// The sampler is its only sender and the client's writePump its only
	// receiver.
	mailbox chan *websocket.PreparedMessage
	s       *sampler // set by join

	// Touched only by the sampler goroutine.
	greeted        bool // the first message has been offered
	historyPending bool // the message in the mailbox may be the first one, not yet taken
}

// offer puts tick in the mailbox, replacing a message the writer has not
// taken yet, and reports whether it replaced one. It never blocks. If the
// replaced message was the viewer's first (with the history), it is
// replaced by a new first message, made by history, so that the history is
// never lost to conflation.
func (v *viewer) offer(tick *websocket.PreparedMessage, history func() *websocket.PreparedMessage) (replaced bool) {
	select {
	case v.mailbox <- tick:
		v.historyPending = false // the slot was empty: the writer took the first message
		return false
	default:
	}
	select {
	case <-v.mailbox:
		replaced = true
	default:
		v.historyPending = false // the writer took it just now
	}
	m := tick
	if v.historyPending {
		if h := history(); h != nil {
			m = h
		}
	}
	v.mailbox <- m // cannot block: the slot is empty and no one else sends
	return replaced
}

// sampler computes the snapshots of one interval and hands them to the
// interval's viewers.
type sampler struct {
	d        *dashboard
	interval time.Duration
	wake     chan struct{} // a token when viewers joined or left

	mu      sync.Mutex // guards viewers
	viewers map[*viewer]struct{}

	// Touched only by run.
	proc       *metrics.ProcessReader
	past       []sample               // the last latencyWindow+1 samples, oldest first
	history    []shared.DashboardData // the last DashboardHistory snapshots, oldest first
	historyMsg *websocket.PreparedMessage
}

// sample is everything read at one moment.
type sample struct {
	r metrics.Reading
	p metrics.ProcessReading
}

func (s *sampler) poke() {
	select {
	case s.wake <- struct{}{}:
	default: // a token is already waiting
	}
}

// run takes a snapshot every interval and offers it to every viewer, and
// greets viewers as they join, until none is left.
func (s *sampler) run() {
	defer s.d.wg.Done()
	// The first sample is the baseline the first snapshot's rates are
	// computed from.
	s.past = []sample{{s.d.m.Read(), s.proc.Read()}}
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		var tick *websocket.PreparedMessage
		select {
		case <-ticker.C:
			tick = s.take()
		case <-s.wake:
		}
		s.mu.Lock()
		viewers := make([]*viewer, 0, len(s.viewers))
		for v := range s.viewers {
			viewers = append(viewers, v)
		}
		s.mu.Unlock()
		if len(viewers) == 0 && s.d.retire(s) {
			s.d.log.Debug("dashboard sampler stopped", "interval", s.interval)
			return
		}
		for _, v := range viewers {
			if !v.greeted {
				v.greeted = true
				if h := s.historyMessage(); h != nil {
					v.mailbox <- h // a new viewer's mailbox is empty
					v.historyPending = true
				}
				continue
			}
			if tick != nil && v.offer(tick, s.historyMessage) {
				s.d.m.SnapshotConflated()
			}
		}
	}
}

// take reads the metrics, records the snapshot in the history and returns
// it encoded, or nil if it could not be encoded.
func (s *sampler) take() *websocket.PreparedMessage {
	cur := sample{s.d.m.Read(), s.proc.Read()}
	s.past = append(s.past, cur)
	if len(s.past) > latencyWindow+1 {
		s.past = slices.Delete(s.past, 0, 1)
	}
	snap := shared.DashboardData{
		Timestamp: cur.r.At.UTC().Round(0),
		Metrics:   snapshotMetrics(s.past),
	}
	s.history = append(s.history, snap)
	if len(s.history) > shared.DashboardHistory {
		s.history = slices.Delete(s.history, 0, 1)
	}
	s.historyMsg = nil
	return s.encode(snap)
}

// historyMessage returns the first message for a new viewer: the newest
// snapshot with the ones before it. It is made at most once per snapshot,
// and only when a viewer needs it. nil means there is no snapshot yet.
func (s *sampler) historyMessage() *websocket.PreparedMessage {
	if s.historyMsg == nil && len(s.history) > 0 {
		n := len(s.history)
		first := s.history[n-1]
		first.History = s.history[:n-1]
		s.historyMsg = s.encode(first)
	}
	return s.historyMsg
}

func (s *sampler) encode(d shared.DashboardData) *websocket.PreparedMessage {
	b, err := json.Marshal(d)
	if err != nil {
		s.d.log.Error("encode dashboard snapshot", "err", err)
		return nil
	}
	m, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		s.d.log.Error("prepare dashboard snapshot", "err", err)
		return nil
	}
	return m
}

// snapshotMetrics computes the snapshot's keys (see serveDashboard) from the
// recent samples, oldest first and at least two: the newest (cur), the one
// before it (prev) for rates, the oldest (base) for the latency quantiles,
// and the newest at least metrics.CPUWindow old for CPU.
func snapshotMetrics(past []sample) map[string]float64 {
	base, prev, cur := past[0], past[len(past)-2], past[len(past)-1]
	snap := map[string]float64{}
	put := func(key string, v float64) { snap[key] = math.Round(finite(v)*1000) / 1000 }
	secs := cur.r.At.Sub(prev.r.At).Seconds()
	rate := func(from, to uint64) float64 {
		if secs <= 0 || to < from {
			return 0
		}
		return float64(to-from) / secs
	}
	var msgsIn, msgsOut, bytesIn, bytesOut float64
	for _, e := range cur.r.Endpoints {
		p, b := prev.r.FindEndpoint(e.Name), base.r.FindEndpoint(e.Name)
		in, out, bin, bout := rate(p.MsgsIn, e.MsgsIn), rate(p.MsgsOut, e.MsgsOut), rate(p.BytesIn, e.BytesIn), rate(p.BytesOut, e.BytesOut)
		msgsIn, msgsOut, bytesIn, bytesOut = msgsIn+in, msgsOut+out, bytesIn+bin, bytesOut+bout
		put("connections."+e.Name, float64(e.Open))
		put("messages_in_per_sec."+e.Name, in)
		put("messages_out_per_sec."+e.Name, out)
		put("bytes_in_per_sec."+e.Name, bin)
		put("bytes_out_per_sec."+e.Name, bout)
		window := slices.Clone(e.Fanout) // observations since base
		for i := range b.Fanout {
			window[i] -= min(b.Fanout[i], window[i])
		}
		put("fanout_p50_ms."+e.Name, metrics.Quantile(0.5, window)*1000)
		put("fanout_p99_ms."+e.Name, metrics.Quantile(0.99, window)*1000)
	}
	put("connections", float64(cur.r.TotalOpen))
	put("messages_in_per_sec", msgsIn)
	put("messages_out_per_sec", msgsOut)
	put("bytes_in_per_sec", bytesIn)
	put("bytes_out_per_sec", bytesOut)
	put("requests", rate(prev.r.HTTPRequests, cur.r.HTTPRequests))
	put("active_users", float64(cur.r.UsersOnline))
	put("response_time", snap["fanout_p50_ms.chat"])
	put("rooms", float64(cur.r.Rooms))
	put("slow_consumer_disconnects", float64(cur.r.TotalSlow))
	put("handshakes_rejected", float64(cur.r.TotalRejected))
	for reason, n := range cur.r.Rejected {
		put("handshakes_rejected."+reason, float64(n))
	}
	put("notifications_stored", float64(cur.r.NotesStored))
	put("notifications_delivered", float64(cur.r.NotesSent))
	put("snapshots_conflated", float64(cur.r.Conflated))
	put("cpu_usage", metrics.CPUPercent(cpuBase(past), cur.p))
	put("memory_usage", float64(cur.p.HeapBytes)/(1<<20))
	put("goroutines", float64(cur.p.Goroutines))
	put("gc_pause_ms", metrics.LongestGCPause(prev.p, cur.p)*1000)
	put("uptime_seconds", cur.r.Uptime.Seconds())
	return snap
}

// cpuBase returns the reading to measure the newest sample's CPU share
// from: the newest earlier one taken at least metrics.CPUWindow before it, or the
// oldest if none is that old.
func cpuBase(past []sample) metrics.ProcessReading {
	cur := past[len(past)-1].p
	for i := len(past) - 2; i >= 0; i-- {
		if cur.At.Sub(past[i].p.At) >= metrics.CPUWindow {
			return past[i].p
		}
	}
	return past[0].p
}

// finite replaces NaN and infinities, which JSON cannot carry, with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
