// Command bench measures wsplay's connection layer against the reference
// in the repository (scripts/bench/refhub: the canonical gorilla chat hub
// and echo example), side by side in one run:
//
//	go run ./scripts/bench            # every scenario, two rounds
//	go run ./scripts/bench -only echo -rounds 1
//
// Each scenario runs on a fresh process of each server, the two
// alternating, for -rounds rounds; the table shows the median of the
// rounds and wsplay's ratio to the reference. Server CPU is read from
// /proc/PID/stat, memory from /proc/PID/status (Linux). The load runs in
// this process, on the same cores, so figures are per unit of server CPU
// rather than per second. Every loop is bounded in count and time, and
// only loopback addresses are used.
//
// Scenarios:
//
//	echo     50 connections × 2,000 round trips of 128 B: round trips per server CPU-second
//	fanout   1,000 subscribers, 100 messages/s for 10 s, one frame per message
//	batch    5,000 subscribers, 100 messages/s for 10 s, subscribers offering wsplay-batch
//	idle     5,000 connections doing nothing: server memory per connection
//	cluster  the fan-out's 1,000 subscribers spread over 3 wsplay processes
//	         sharing the room through NATS JetStream, beside one process
//	         without NATS: delivered, p50/p99, CPU per process (NATS's too)
//
// The cluster scenario is not in the default set, which compares wsplay
// with the reference hub; it compares wsplay with itself, and starts
// five processes a round:
//
//	go run ./scripts/bench -only cluster
//	go run ./scripts/bench -only cluster -rounds 1 -subscribers 100 -duration 3s   # a quick try
//
// It builds nats-server from the module the project depends on (nothing
// downloaded) and runs it as a process of its own, so that its CPU is read
// from /proc like a node's. -subscribers and -duration size only it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one scenario's figures on one server.
type result map[string]float64

type scenario struct {
	name string
	what string
	run  func(ctx context.Context, s *server) (result, error)
	keys []string // the figures shown, in order
	// targets are the connection layer's targets for the scenario (see
	// the README's "Measured"), checked on the medians.
	targets []target
}

func run(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	only := fs.String("only", "", "comma-separated scenarios to run (echo, fanout, batch, idle, cluster); empty: all but cluster")
	rounds := fs.Int("rounds", 2, "rounds of each scenario, alternating the servers (1 to 5)")
	subscribers := fs.Int("subscribers", 1000, "the cluster scenario's subscribers, spread over its nodes (3 to 10,000)")
	duration := fs.Duration("duration", 10*time.Second, "how long the cluster scenario publishes, at 100 messages/s (1s to 1m)")
	fs.StringVar(&profileDir, "profile", "", "`directory` to write wsplay's CPU profiles (echo, fan-outs) and heap profile (idle) to, for go tool pprof")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *rounds > 5 {
		return errors.New("-rounds: 1 to 5")
	}
	if *subscribers < clusterNodes || *subscribers > 10000 {
		return errors.New("-subscribers: 3 to 10,000")
	}
	if *duration < time.Second || *duration > time.Minute {
		return errors.New("-duration: 1s to 1m")
	}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return err
		}
	}
	scenarios := []scenario{
		{name: "echo", what: "echo, 50 conns × 2,000 round trips of 128 B", run: echoScenario,
			keys:    []string{"round trips per CPU-s"},
			targets: []target{{"round trips per CPU-s", atLeast, 1}}},
		{name: "fanout", what: "fan-out, 1,000 subscribers, 100 msg/s, 10 s, a frame per message", run: fanout(1000, false),
			keys:    []string{"deliveries per CPU-s", "delivered %", "p50 ms", "p99 ms"},
			targets: []target{{"deliveries per CPU-s", atLeast, 1}, {"p99 ms", atMost, 1}, {"delivered %", all, 100}}},
		{name: "batch", what: "fan-out, 5,000 subscribers, 100 msg/s, 10 s, offering wsplay-batch", run: fanout(5000, true),
			keys:    []string{"deliveries per CPU-s", "delivered %", "p50 ms", "p99 ms"},
			targets: []target{{"deliveries per CPU-s", atLeast, 1.5}, {"p99 ms", atMost, 1}, {"delivered %", all, 100}}},
		{name: "idle", what: "5,000 idle chat connections", run: idleScenario,
			keys:    []string{"KiB per connection"},
			targets: []target{{"KiB per connection", atMost, 0.5}}},
	}
	want := map[string]bool{}
	for s := range strings.SplitSeq(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if s != "cluster" && !slices.ContainsFunc(scenarios, func(sc scenario) bool { return sc.name == s }) {
				return fmt.Errorf("-only: no scenario %q (echo, fanout, batch, idle, cluster)", s)
			}
			want[s] = true
		}
	}
	if len(want) == 0 {
		for _, sc := range scenarios {
			want[sc.name] = true
		}
	}
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "wsplay-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{"wsplay": filepath.Join(dir, "wsplay"), "refhub": filepath.Join(dir, "refhub")}
	for name, pkg := range map[string]string{"wsplay": "./server", "refhub": "./scripts/bench/refhub"} {
		if out, err := exec.Command("go", "build", "-o", bins[name], pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s (run from the module root): %w\n%s", pkg, err, out)
		}
	}

	fmt.Printf("machine: %d cores, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	var table [][]string
	var verdicts []string
	missed := 0
	for _, sc := range scenarios {
		if !want[sc.name] {
			continue
		}
		got := map[string][]result{}
		for r := range *rounds {
			order := []string{"refhub", "wsplay"}
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, name := range order {
				res, err := once(sc, name, bins[name], dir, r+1)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", sc.name, name, err)
				}
				fmt.Printf("  %s round %d %s: %v\n", sc.name, r+1, name, res)
				got[name] = append(got[name], res)
			}
		}
		for _, k := range sc.keys {
			ref, ws := median(got["refhub"], k), median(got["wsplay"], k)
			ratio := "—"
			if ref > 0 {
				ratio = fmt.Sprintf("%.2f×", ws/ref)
			}
			table = append(table, []string{sc.what, k, fmt.Sprintf("%.1f", ref), fmt.Sprintf("%.1f", ws), ratio})
		}
		for _, t := range sc.targets {
			ref, ws := median(got["refhub"], t.key), median(got["wsplay"], t.key)
			ok, says := t.check(ref, ws)
			mark := "met   "
			if !ok {
				mark, missed = "MISSED", missed+1
			}
			verdicts = append(verdicts, fmt.Sprintf("  %s %s, %s: %s", mark, sc.name, t.key, says))
		}
	}
	if len(table) > 0 {
		fmt.Printf("\n| scenario | figure | reference hub | wsplay | ratio |\n|---|---|---|---|---|\n")
		for _, row := range table {
			fmt.Printf("| %s |\n", strings.Join(row, " | "))
		}
		fmt.Printf("\ntargets (medians of this run):\n%s\n", strings.Join(verdicts, "\n"))
		if missed > 0 {
			fmt.Printf("%d of %d targets missed\n", missed, len(verdicts))
		} else {
			fmt.Printf("all %d targets met\n", len(verdicts))
		}
	}
	if want["cluster"] {
		return clusterBench(bins, dir, *rounds, *subscribers, *duration)
	}
	return nil
}

// target is one of the connection layer's targets for a scenario's
// figure: wsplay's median against the reference's.
type target struct {
	key  string
	kind targetKind
	n    float64 // the ratio to reach (atLeast, atMost), or the value both must have (all)
}

type targetKind int

const (
	atLeast targetKind = iota // wsplay / reference ≥ n
	atMost                    // wsplay / reference ≤ n
	all                       // wsplay's exactly n: nothing lost
)

// check says whether the target holds for ref and ws, and why.
func (t target) check(ref, ws float64) (bool, string) {
	switch t.kind {
	case all:
		return ws == t.n, fmt.Sprintf("wsplay %.1f, the reference %.1f (%.0f wanted)", ws, ref, t.n)
	case atLeast:
		r := ws / ref
		return ref > 0 && r >= t.n, fmt.Sprintf("%.2f× the reference (at least %.2g× wanted)", r, t.n)
	default:
		r := ws / ref
		return ref > 0 && r <= t.n, fmt.Sprintf("%.2f× the reference (at most %.2g× wanted)", r, t.n)
	}
}

// profileDir, when set by -profile, receives wsplay's profiles.
var profileDir string

// once runs sc against a fresh process of the named server.
func once(sc scenario, name, bin, dir string, round int) (result, error) {
	s, err := start(name, bin, dir)
	if err != nil {
		return nil, err
	}
	s.profileName = fmt.Sprintf("%s-%d", sc.name, round)
	defer s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return sc.run(ctx, s)
}

func median(rs []result, key string) float64 {
	var vs []float64
	for _, r := range rs {
		vs = append(vs, r[key])
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// server is a running server process.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	data string
	// pprof is the address of wsplay's profiler, under -profile, and
	// profileName the stem of the files written for this run.
	pprof       string
	profileName string
}

// start starts the named server (wsplay, refhub or nats) from bin, its
// data, if any, in a directory of its own under dir; extra flags go to
// wsplay.
func start(name, bin, dir string, extra ...string) (*server, error) {
	s := &server{name: name}
	var cmd *exec.Cmd
	switch name {
	case "wsplay":
		s.data = filepath.Join(dir, fmt.Sprintf("data-%d", time.Now().UnixNano()))
		cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-log-format", "json", "-data", s.data,
			"-send-queue", "16384", "-send-queue-bytes", "67108864",
			"-message-rate", "100000", "-message-burst", "100000", "-address-rate", "100000", "-address-burst", "100000",
			"-max-conns", "20000", "-max-conns-per-ip", "20000", "-max-http-conns", "20000")
		cmd.Args = append(cmd.Args, extra...)
		if profileDir != "" {
			cmd.Args = append(cmd.Args, "-pprof-addr", "127.0.0.1:0")
		}
	case "nats":
		s.data = filepath.Join(dir, fmt.Sprintf("nats-%d", time.Now().UnixNano()))
		cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", s.data) // -1: a free port
	default:
		cmd = exec.Command(bin, "-addr", "127.0.0.1:0")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.cmd = cmd
	addr := make(chan string, 2)
	pprofAddr := make(chan string, 1)
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			var rec struct{ Msg, Addr string }
			switch {
			case strings.Contains(line, natsListening):
				addr <- line[strings.Index(line, natsListening)+len(natsListening):]
			case strings.HasPrefix(line, "listening "):
				addr <- strings.TrimPrefix(line, "listening ")
			case json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening":
				addr <- rec.Addr
			case rec.Msg == "profiler listening":
				pprofAddr <- strings.TrimPrefix(strings.TrimSuffix(rec.Addr, "/debug/pprof/"), "http://")
			}
		}
	}
	go scan(out)
	go scan(logs)
	select {
	case s.addr = <-addr:
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("the server did not start")
	}
	if name == "wsplay" && profileDir != "" {
		select {
		case s.pprof = <-pprofAddr:
		case <-time.After(10 * time.Second):
			s.stop()
			return nil, errors.New("the server's profiler did not start")
		}
	}
	return s, nil
}

// natsListening comes before the address in the line nats-server logs
// when it is ready for clients.
const natsListening = "Listening for client connections on "

// profileCPU starts a CPU profile of d, written to the profile directory,
// if there is one; the returned function waits for it.
func (s *server) profileCPU(d time.Duration) (wait func()) {
	if s.pprof == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.fetchProfile(fmt.Sprintf("profile?seconds=%d", int(d.Seconds())), s.profileName+".cpu.pprof")
	}()
	return func() { <-done }
}

// profileHeap writes a heap profile to the profile directory, if there
// is one.
func (s *server) profileHeap() {
	if s.pprof != "" {
		s.fetchProfile("heap?gc=1", s.profileName+".heap.pprof")
		s.fetchProfile("heap?debug=1", s.profileName+".heap.txt") // with the runtime's memory statistics
	}
}

func (s *server) fetchProfile(query, file string) {
	resp, err := http.Get("http://" + s.pprof + "/debug/pprof/" + query)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode == http.StatusOK {
		err = os.WriteFile(filepath.Join(profileDir, file), b, 0o644)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "bench: profile:", resp.Status, err)
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	if s.data != "" {
		os.RemoveAll(s.data)
	}
}

// cpu returns the process's user and system CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// rssKiB returns the process's resident memory.
func (s *server) rssKiB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb
		}
	}
	return 0
}

func (s *server) url(path string) string { return "ws://" + s.addr + path }

// dialMany opens n connections to path, 50 at a time.
func dialMany(ctx context.Context, n int, url func(i int) string, opts *websocket.DialOptions) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 50)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		bad error
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, url(i), opts)
			if err != nil {
				mu.Lock()
				bad = errors.Join(bad, err)
				mu.Unlock()
				return
			}
			c.SetReadLimit(16 << 20)
			conns[i] = c
		})
	}
	wg.Wait()
	if bad != nil {
		closeAll(conns)
		return nil, bad
	}
	return conns, nil
}

func closeAll(conns []*websocket.Conn) {
	var wg sync.WaitGroup
	for _, c := range conns {
		if c != nil {
			wg.Go(func() { c.CloseNow() })
		}
	}
	wg.Wait()
}

func echoScenario(ctx context.Context, s *server) (result, error) {
	const conns, trips = 50, 2000
	cs, err := dialMany(ctx, conns, func(int) string { return s.url("/ws/echo") }, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	msg := bytes.Repeat([]byte("e"), 128)
	defer s.profileCPU(2 * time.Second)()
	cpu0 := s.cpu()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, c := range cs {
		wg.Go(func() {
			for range trips {
				if c.Write(ctx, websocket.MessageText, msg) != nil {
					failed.Add(1)
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return nil, fmt.Errorf("%d connections failed", failed.Load())
	}
	cpu := (s.cpu() - cpu0).Seconds()
	return result{"round trips per CPU-s": float64(conns*trips) / max(cpu, 0.01)}, nil
}

// fanout returns the scenario of n subscribers in one room.
func fanout(n int, batch bool) func(ctx context.Context, s *server) (result, error) {
	return func(ctx context.Context, s *server) (result, error) {
		return fanoutLoad{
			n: n, batch: batch, duration: 10 * time.Second, plain: s.name != "wsplay",
			sub:     func(i int) string { return s.url("/ws/chat?room=load&username=sub" + strconv.Itoa(i)) },
			pub:     s.url("/ws/chat?room=load&username=publisher"),
			procs:   []*server{s},
			labels:  []string{s.name},
			profile: s,
		}.run(ctx)
	}
}

// fanoutLoad is a fan-out: n subscribers in one room, one publisher
// sending 100 messages a second for duration, and the server processes
// whose CPU it costs.
type fanoutLoad struct {
	n        int
	batch    bool // the subscribers offer wsplay-batch
	duration time.Duration
	plain    bool               // the reference hub's plain text frames, not wsplay's JSON
	sub      func(i int) string // subscriber i's URL
	pub      string             // the publisher's URL
	procs    []*server          // the processes whose CPU is measured,
	labels   []string           // named so in the result ("CPU-s " + label)
	profile  *server            // profiled under -profile, if not nil
}

// run runs the fan-out. Its result has the deliveries per CPU-second of
// all of l.procs together, each one's CPU-seconds, the load process's,
// what was sent (fewer than rate × duration when the publisher is
// starved of CPU), delivered and expected, and the latency percentiles.
func (l fanoutLoad) run(ctx context.Context) (result, error) {
	const rate = 100
	n, duration := l.n, l.duration
	var opts *websocket.DialOptions
	if l.batch {
		opts = &websocket.DialOptions{Subprotocols: []string{"wsplay-batch"}}
	}
	var (
		received atomic.Int64
		lastSeen atomic.Int64
	)
	lastSeen.Store(time.Now().UnixNano())
	subs, err := dialMany(ctx, n, l.sub, opts)
	if err != nil {
		return nil, err
	}
	defer closeAll(subs)
	lat := make([][]time.Duration, n)
	var readers sync.WaitGroup
	for i, c := range subs {
		readers.Go(func() { lat[i] = receive(ctx, c, &received, &lastSeen) })
	}
	// Let the joins (wsplay announces each) settle before measuring.
	for quiet := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if seen := lastSeen.Load(); seen > quiet.UnixNano() {
			quiet = time.Unix(0, seen)
		} else if time.Since(quiet) > 500*time.Millisecond {
			break
		}
		if ctx.Err() != nil {
			return nil, errors.New("the joins did not settle")
		}
	}
	pub, _, err := websocket.Dial(ctx, l.pub, nil)
	if err != nil {
		return nil, err
	}
	pub.SetReadLimit(16 << 20)
	go func() {
		for {
			if _, _, err := pub.Read(ctx); err != nil {
				return
			}
		}
	}()
	received.Store(0)
	if l.profile != nil {
		wait := l.profile.profileCPU(duration)
		defer wait()
	}
	cpu0 := make([]time.Duration, len(l.procs))
	for i, p := range l.procs {
		cpu0[i] = p.cpu()
	}
	load0 := selfCPU()
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	pad := strings.Repeat("x", 100)
	sent := 0
	for time.Since(start) < duration {
		<-tick.C
		content := "ts=" + strconv.FormatInt(time.Now().UnixNano(), 10) + " " + pad
		var msg []byte
		if l.plain {
			msg = []byte(content)
		} else {
			msg, _ = json.Marshal(map[string]string{"type": "text", "content": content})
		}
		if err := pub.Write(ctx, websocket.MessageText, msg); err != nil {
			tick.Stop()
			return nil, fmt.Errorf("publish: %w", err)
		}
		sent++
	}
	tick.Stop()
	expected := int64(sent) * int64(n)
	for drain := time.Now().Add(15 * time.Second); received.Load() < expected && time.Now().Before(drain); {
		time.Sleep(20 * time.Millisecond)
	}
	res := result{"load CPU-s": (selfCPU() - load0).Seconds()}
	var cpu float64
	for i, p := range l.procs {
		c := (p.cpu() - cpu0[i]).Seconds()
		res["CPU-s "+l.labels[i]] = c
		cpu += c
	}
	got := received.Load()
	pub.CloseNow()
	closeAll(subs)
	readers.Wait()
	var all []time.Duration
	for _, ls := range lat {
		all = append(all, ls...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	res["server CPU-s"] = cpu
	res["deliveries per CPU-s"] = float64(got) / max(cpu, 0.01)
	res["sent"] = float64(sent)
	res["delivered"] = float64(got)
	res["expected"] = float64(expected)
	res["delivered %"] = 100 * float64(got) / float64(expected)
	res["p50 ms"] = pct(0.5)
	res["p99 ms"] = pct(0.99)
	return res, nil
}

// selfCPU returns this process's user and system CPU time so far: the
// load's, on the same cores as the servers.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// receive counts the messages one subscriber gets, a frame holding one
// or (batched) several, one per line, and returns their latencies from
// the "ts=" the publisher put in each.
func receive(ctx context.Context, c *websocket.Conn, received, lastSeen *atomic.Int64) []time.Duration {
	var out []time.Duration
	marker := []byte("ts=")
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return out
		}
		now := time.Now()
		lastSeen.Store(now.UnixNano())
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			i := bytes.Index(line, marker)
			if i < 0 {
				continue // join, leave, history, user list
			}
			digits := line[i+len(marker):]
			if j := bytes.IndexByte(digits, ' '); j > 0 {
				if ns, err := strconv.ParseInt(string(digits[:j]), 10, 64); err == nil {
					out = append(out, now.Sub(time.Unix(0, ns)))
					received.Add(1)
				}
			}
		}
	}
}

func idleScenario(ctx context.Context, s *server) (result, error) {
	const n = 5000
	time.Sleep(500 * time.Millisecond)
	before := s.rssKiB()
	var lastSeen atomic.Int64
	var received atomic.Int64
	cs, err := dialMany(ctx, n, func(i int) string { return s.url("/ws/chat?room=idle&username=u" + strconv.Itoa(i)) }, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	var readers sync.WaitGroup
	for _, c := range cs {
		readers.Go(func() { receive(ctx, c, &received, &lastSeen) })
	}
	lastSeen.Store(time.Now().UnixNano())
	for quiet := time.Now(); time.Since(quiet) < time.Second; time.Sleep(100 * time.Millisecond) {
		if seen := lastSeen.Load(); seen > quiet.UnixNano() {
			quiet = time.Unix(0, seen)
		}
		if ctx.Err() != nil {
			break
		}
	}
	time.Sleep(2 * time.Second)
	after := s.rssKiB()
	s.profileHeap()
	closeAll(cs)
	readers.Wait()
	return result{"KiB per connection": (after - before) / n}, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one, for
// thousands of sockets.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
