// Package dashboard is the live dashboard endpoint: it pushes a snapshot
// of the server's own metrics (package metrics), a [shared.DashboardData],
// once per interval to every viewer.
//
// The interval is Config.Interval unless the request asks for one of
// [shared.DashboardIntervals] with ?interval=; any other value gets 400
// before the upgrade. Each interval in use has one sampler goroutine,
// which reads the metrics, computes the snapshot and encodes it once, as a
// wsconn.Frame, for all its viewers. The first messages a viewer gets
// are the recent snapshots, in pages of at most shared.MaxFrame bytes:
// each a snapshot with the ones before it in History, all but the last
// marked More, the last page's own snapshot the newest.
//
// Latest value wins. Only a viewer's history pages, once, go through
// the send queue, which is written before the mailbox; every later
// snapshot goes to the connection's one-slot mailbox
// (wsconn.Conn.Offer), where the sampler replaces a snapshot still
// waiting with the newer one (viewer.offer). So a viewer that reads
// slowly gets the newest snapshot when it is ready, the server holds at
// most one pending snapshot per viewer besides its history, and the
// sampler never waits for anyone. A viewer that takes nothing at all is
// dropped by the write timeout, like any other client.
//
// The endpoint is push-only but still reads: for WebSocket pings, pongs
// and close, for the heartbeat of package shared, a text
// {"type":"ping"} that it answers with {"type":"pong"}, and, on a server
// run with -playground-faults (Config.Faults), for the fault requests of
// shared.TypeFault. Other text from the viewer is ignored; a binary
// frame closes with 1003. Every message
// counts against a per-connection rate (Config.MessageRate), as on chat:
// a flood gets an error, then a close with 1008.
//
// The snapshot's keys are the Metric constants of package shared, which
// document each one's unit and meaning.
package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
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

// Config is how the dashboard behaves. The zero value is ready to use.
type Config struct {
	// Interval is how often a viewer that does not ask for another
	// interval gets a snapshot. Between 10 ms and 1 min. Default 1 s.
	Interval time.Duration
	// MessageRate is how many messages a second one viewer may send (its
	// heartbeat), with bursts of MessageBurst. Defaults, as for
	// wsconn.NewLimiter: 10 and 20.
	MessageRate  float64
	MessageBurst int
	// Faults lets each viewer ask the server to inject a fault into its
	// own connection (shared.TypeFault), for teaching, as on chat, with
	// the readings of a push-only endpoint: drop drops what the viewer
	// sends (its pings), no_pong leaves its pings unanswered, latency
	// delays the snapshots and the answers, and stall_reads holds the
	// snapshots back, the newest replacing the one waiting, and closes
	// with 1008 once more answers than its bound wait. Off, such a
	// request gets an error of code forbidden. Default off.
	Faults bool
}

// The bounds and default of Config.Interval.
const (
	MinInterval     = 10 * time.Millisecond
	MaxInterval     = time.Minute
	DefaultInterval = time.Second
)

// Check reports an Interval out of bounds; zero takes the default.
func (c Config) Check() error {
	if c.Interval != 0 && (c.Interval < MinInterval || c.Interval > MaxInterval) {
		return fmt.Errorf("dashboard interval %v: must be between %v and %v", c.Interval, MinInterval, MaxInterval)
	}
	return nil
}

// Deps are what a Service works with. Every field may be left nil.
type Deps struct {
	// Metrics are what the snapshots show. Default: a metrics.Metrics of
	// its own, which counts the dashboard's viewers and the process.
	Metrics *metrics.Metrics
	// Gate admits the handshakes. Default: a gate of the zero
	// gate.Config; a gate given here belongs to the caller, who shuts it
	// down, and then calls Wait.
	Gate *gate.Gate
	// Log receives the samplers' log lines. Default: discarded.
	Log *slog.Logger
	// Cluster, for a server that shares rooms with others, names this
	// process in every snapshot and adds the whole cluster's figures
	// (shared.MetricClusterConnections, shared.MetricClusterNodes).
	// Default none: a server on its own.
	Cluster Cluster
}

// Cluster is what a dashboard shows of the server processes that share
// rooms with this one.
type Cluster interface {
	// Node names this process.
	Node() string
	// Connections returns the connections open now on every process,
	// this one included, and how many processes there are.
	Connections() (connections, nodes int)
}

// ReasonBadInterval is the reason a handshake asking for an interval not
// in shared.DashboardIntervals is refused for.
const ReasonBadInterval = "bad interval"

// New returns a dashboard. It fails for a Config that Check refuses, or
// when it must make a gate of its own and cannot.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	d := &Service{cfg: cfg, m: deps.Metrics, gate: deps.Gate, log: deps.Log, cluster: deps.Cluster, samplers: map[time.Duration]*sampler{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.m == nil {
		d.m = metrics.New()
	}
	if d.gate == nil {
		g, err := gate.New(gate.Config{}, d.log, d.m)
		if err != nil {
			return nil, err
		}
		d.gate, d.ownsGate = g, true
	}
	d.m.DeclareRejectReasons(ReasonBadInterval)
	return d, nil
}

// Shutdown closes every viewer's connection through the Service's own
// gate, if it made one, and returns once no sampler runs.
func (d *Service) Shutdown(ctx context.Context) error {
	var err error
	if d.ownsGate {
		err = d.gate.Shutdown(ctx)
	}
	d.Wait()
	return err
}

// ServeHTTP handles GET /ws/dashboard[?interval=D], wherever it is
// mounted.
func (d *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A viewer has no name of its own; with the gate's RequireAuth it
	// needs a token like every endpoint (the page's login cookie does).
	interval := d.cfg.Interval
	c, _ := d.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointDashboard,
		Check: func(r *http.Request, _ string) (func(), *gate.Refusal) {
			if q := r.URL.Query(); q.Has("interval") {
				d, err := shared.ParseDashboardInterval(q.Get("interval"))
				if err != nil {
					return nil, gate.Refuse(http.StatusBadRequest, ReasonBadInterval, err.Error())
				}
				interval = d
			}
			return nil, nil
		},
	})
	if c == nil {
		return
	}
	v := &viewer{box: c}
	d.join(v, interval)
	limiter := wsconn.NewLimiter(d.cfg.MessageRate, d.cfg.MessageBurst)
	c.Start(func(typ int, data []byte) error {
		warn := func(e *shared.Error) { c.Enqueue(wsconn.TextFrame(shared.EncodeHeartbeatError(e))) }
		if ok, err := limiter.Admit(c, warn); !ok {
			return err
		}
		if typ == websocket.BinaryMessage {
			c.Close(websocket.CloseUnsupportedData, shared.ReasonBinary)
			return wsconn.ErrClosedByServer
		}
		if content, ok := shared.ParseFault(data); ok {
			if e := d.injectFault(c, content); e != nil {
				warn(e)
			}
			return nil
		}
		id, ok := shared.ParsePing(data)
		if !ok {
			return nil // a viewer has nothing else to say
		}
		if e := shared.CheckPingID(id); e != nil {
			warn(e)
			return nil
		}
		if c.NoPong() {
			return nil // a fault: this viewer's pings go unanswered
		}
		c.Enqueue(wsconn.TextFrame(shared.EncodePong(id)))
		return nil
	}, func() { d.leave(v) })
}

// injectFault applies the fault a viewer asked of its own connection c
// (shared.TypeFault), after acknowledging it, or returns why it cannot:
// as on chat (wsconn.Conn.InjectFault).
func (d *Service) injectFault(c *wsconn.Conn, content string) *shared.Error {
	if !d.cfg.Faults {
		return wsconn.FaultsOff()
	}
	ack := func() { c.Reply(wsconn.TextFrame(shared.EncodeFault(content))) }
	if err := c.InjectFault(content, ack); err != nil {
		return err
	}
	d.m.FaultInjected()
	return nil
}

// latencyWindow is how many intervals the fan-out quantiles cover: 10 s at
// the default interval. Chat messages are sparse, so a single interval
// would mostly hold none.
const latencyWindow = 10

// Service is the dashboard endpoint. It owns the samplers, one per
// interval in use. A sampler starts with its first viewer and stops when
// its last one leaves; on shutdown that happens as the gate closes every
// viewer. Its methods are safe for concurrent use.
type Service struct {
	cfg      Config
	m        *metrics.Metrics
	gate     *gate.Gate
	ownsGate bool
	log      *slog.Logger
	cluster  Cluster // nil for a server on its own

	mu       sync.Mutex // guards samplers; taken before any sampler.mu
	samplers map[time.Duration]*sampler
	wg       sync.WaitGroup // one count per running sampler
}

// join adds v to the sampler of interval, starting one if none runs.
func (d *Service) join(v *viewer, interval time.Duration) {
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
func (d *Service) leave(v *viewer) {
	v.s.mu.Lock()
	delete(v.s.viewers, v)
	v.s.mu.Unlock()
	v.s.poke()
}

// retire removes s if it has no viewers, and reports whether it did. Under
// d.mu, so that a join either finds s with its new viewer or starts anew.
func (d *Service) retire(s *sampler) bool {
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

// Wait returns when no sampler runs. Call it after every viewer's
// connection has ended (the gate's Shutdown).
func (d *Service) Wait() { d.wg.Wait() }

// Running returns how many samplers run.
func (d *Service) Running() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.samplers)
}

// viewer is one dashboard connection as its sampler sees it.
type viewer struct {
	// box is the connection's mailbox, with room for one message. The
	// sampler is its only sender.
	box mailbox
	s   *sampler // set by join

	// Touched only by the sampler goroutine.
	greeted bool // the history has been queued
}

// mailbox is where a viewer's messages wait to be written: a
// *wsconn.Conn's send queue, for the history pages, and its one-slot
// mailbox, written after the queue, for the snapshots (unit tests use a
// stand-in).
type mailbox interface {
	Enqueue(f *wsconn.Frame) bool
	Offer(next func(replacing bool) *wsconn.Frame) (replaced bool)
}

// greet queues the history pages for a new viewer. They go in the send
// queue, whose messages are written before the mailbox's, so no snapshot
// overtakes them and none replaces them.
func (v *viewer) greet(pages []*wsconn.Frame) {
	for _, p := range pages {
		if !v.box.Enqueue(p) {
			return
		}
	}
}

// offer puts tick in the mailbox, replacing a message the writer has not
// taken yet, and reports whether it replaced one. It never blocks.
func (v *viewer) offer(tick *wsconn.Frame) (replaced bool) {
	return v.box.Offer(func(bool) *wsconn.Frame { return tick })
}

// sampler computes the snapshots of one interval and hands them to the
// interval's viewers.
type sampler struct {
	d        *Service
	interval time.Duration
	wake     chan struct{} // a token when viewers joined or left

	mu      sync.Mutex // guards viewers
	viewers map[*viewer]struct{}

	// Touched only by run.
	proc    *metrics.ProcessReader
	past    []sample               // the last latencyWindow+1 samples, oldest first
	history []shared.DashboardData // the last DashboardHistory snapshots, oldest first
	pages   []*wsconn.Frame        // history as a new viewer gets it; nil until needed
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
		var tick *wsconn.Frame
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
				if pages := s.historyPages(); pages != nil {
					v.greeted = true
					v.greet(pages)
				}
				continue // its history holds tick
			}
			if tick != nil && v.offer(tick) {
				s.d.m.SnapshotConflated()
			}
		}
	}
}

// take reads the metrics, records the snapshot in the history and returns
// it encoded, or nil if it could not be encoded.
func (s *sampler) take() *wsconn.Frame {
	cur := sample{s.d.m.Read(), s.proc.Read()}
	s.past = append(s.past, cur)
	if len(s.past) > latencyWindow+1 {
		s.past = slices.Delete(s.past, 0, 1)
	}
	snap := shared.DashboardData{
		Timestamp: cur.r.At.UTC().Round(0),
		Metrics:   snapshotMetrics(s.past),
	}
	if c := s.d.cluster; c != nil {
		conns, nodes := c.Connections()
		snap.Node = c.Node()
		snap.Metrics[shared.MetricClusterConnections] = float64(conns)
		snap.Metrics[shared.MetricClusterNodes] = float64(nodes)
	}
	s.history = append(s.history, snap)
	if len(s.history) > shared.DashboardHistory {
		s.history = slices.Delete(s.history, 0, 1)
	}
	s.pages = nil
	return s.encode(snap)
}

// historyPages returns the first messages for a new viewer: the recent
// snapshots, oldest first, in pages of at most shared.MaxFrame bytes,
// each the page's newest snapshot with the ones before it in History and
// all but the last marked More. They are made at most once per snapshot,
// and only when a viewer needs them. nil means there is no snapshot yet.
func (s *sampler) historyPages() []*wsconn.Frame {
	if s.pages == nil && len(s.history) > 0 {
		s.pages = s.paginate(s.history)
	}
	return s.pages
}

// paginate cuts snaps, oldest first, into pages of at most
// shared.MaxFrame bytes, encoded.
func (s *sampler) paginate(snaps []shared.DashboardData) []*wsconn.Frame {
	sizes := make([]int, len(snaps))
	for i, d := range snaps {
		b, _ := json.Marshal(d)
		sizes[i] = len(b)
	}
	// A page of snaps[i..j] is snaps[j] with the others in History: its
	// own bytes, each earlier one's and a comma, and the two fields.
	const fields = len(`,"history":[]`) + len(`,"more":true`)
	var out []*wsconn.Frame
	for i := 0; i < len(snaps); {
		j, inner := i, 0
		for j+1 < len(snaps) && sizes[j+1]+inner+sizes[j]+1+fields <= shared.MaxFrame {
			inner += sizes[j] + 1
			j++
		}
		page := snaps[j]
		page.History, page.More = snaps[i:j], j+1 < len(snaps)
		f := s.encode(page)
		if f == nil {
			return nil
		}
		out = append(out, f)
		i = j + 1
	}
	return out
}

func (s *sampler) encode(d shared.DashboardData) *wsconn.Frame {
	b, err := json.Marshal(d)
	if err != nil {
		s.d.log.Error("encode dashboard snapshot", "err", err)
		return nil
	}
	return wsconn.TextFrame(b)
}

// snapshotMetrics computes the snapshot's keys (shared's Metric constants) from the
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
		put(shared.EndpointKey(shared.MetricConnections, e.Name), float64(e.Open))
		put(shared.EndpointKey(shared.MetricMessagesIn, e.Name), in)
		put(shared.EndpointKey(shared.MetricMessagesOut, e.Name), out)
		put(shared.EndpointKey(shared.MetricBytesIn, e.Name), bin)
		put(shared.EndpointKey(shared.MetricBytesOut, e.Name), bout)
		window := slices.Clone(e.Fanout) // observations since base
		for i := range b.Fanout {
			window[i] -= min(b.Fanout[i], window[i])
		}
		put(shared.EndpointKey(shared.MetricFanoutP50, e.Name), metrics.Quantile(0.5, window)*1000)
		put(shared.EndpointKey(shared.MetricFanoutP99, e.Name), metrics.Quantile(0.99, window)*1000)
	}
	put(shared.MetricConnections, float64(cur.r.TotalOpen))
	put(shared.MetricMessagesIn, msgsIn)
	put(shared.MetricMessagesOut, msgsOut)
	put(shared.MetricBytesIn, bytesIn)
	put(shared.MetricBytesOut, bytesOut)
	put(shared.MetricRequests, rate(prev.r.HTTPRequests, cur.r.HTTPRequests))
	put(shared.MetricActiveUsers, float64(cur.r.UsersOnline))
	put(shared.MetricResponseTime, snap[shared.EndpointKey(shared.MetricFanoutP50, shared.EndpointChat)])
	put(shared.MetricRooms, float64(cur.r.Rooms))
	put(shared.MetricSlowDisconnects, float64(cur.r.TotalSlow))
	put(shared.MetricRejected, float64(cur.r.TotalRejected))
	for reason, n := range cur.r.Rejected {
		put(shared.EndpointKey(shared.MetricRejected, reason), float64(n))
	}
	put(shared.MetricNotesStored, float64(cur.r.NotesStored))
	put(shared.MetricNotesDelivered, float64(cur.r.NotesSent))
	put(shared.MetricConflated, float64(cur.r.Conflated))
	put(shared.MetricFaults, float64(cur.r.Faults))
	put(shared.MetricCPU, metrics.CPUPercent(cpuBase(past), cur.p))
	put(shared.MetricMemory, float64(cur.p.HeapBytes)/(1<<20))
	put(shared.MetricGoroutines, float64(cur.p.Goroutines))
	put(shared.MetricGCPause, metrics.LongestGCPause(prev.p, cur.p)*1000)
	put(shared.MetricUptime, cur.r.Uptime.Seconds())
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
