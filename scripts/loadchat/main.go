// Command loadchat measures chat fan-out: it opens N real WebSocket
// subscribers in one room, publishes at a given rate from one more
// connection, and reports how many messages arrived, their latency from
// send to receipt, and the server's CPU time.
//
// By default it builds and starts its own server on a loopback port, with
// a temporary data directory, so one command does everything:
//
//	go run ./scripts/loadchat -n 1000 -rate 100 -duration 10s
//
// With -url it targets a running server instead; only loopback addresses
// are accepted. Every run is bounded: at most 10,000 subscribers, at most
// 60 s of publishing, then at most 15 s to drain.
//
// The subscribers run in this process, on the same machine as the server,
// so the figures include the cost of receiving: they are a floor for what
// the server can do, not a ceiling.
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
	"net"
	"net/url"
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

	"wsplay/shared"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadchat:", err)
		os.Exit(1)
	}
}

type options struct {
	url      string
	n        int
	rate     float64
	duration time.Duration
	size     int
	room     string
	batch    bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("loadchat", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "", "a running server's `URL` (loopback only); empty starts one")
	fs.IntVar(&o.n, "n", 1000, "subscribers (at most 10,000)")
	fs.Float64Var(&o.rate, "rate", 100, "messages published per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to publish (at most 60 s)")
	fs.IntVar(&o.size, "size", 100, "bytes of content per message")
	fs.StringVar(&o.room, "room", "load", "the room")
	fs.BoolVar(&o.batch, "batch", true, "subscribers offer "+shared.SubprotocolBatch+", as the page does, and take runs of messages as one frame")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.n < 1 || o.n > 10000:
		return errors.New("-n: want 1 to 10,000")
	case o.duration <= 0 || o.duration > time.Minute:
		return errors.New("-duration: want up to 60 s")
	case o.rate <= 0 || o.rate > 10000:
		return errors.New("-rate: want up to 10,000 a second")
	case o.size < 40 || o.size > 4000:
		return errors.New("-size: want 40 to 4,000 bytes")
	}
	raiseFileLimit()

	var srv *server
	if o.url == "" {
		var err error
		if srv, err = startServer(); err != nil {
			return err
		}
		defer srv.stop()
		o.url = srv.url
	}
	if err := requireLoopback(o.url); err != nil {
		return err
	}
	return load(o, srv)
}

// requireLoopback refuses any target but this machine.
func requireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	ips, err := net.LookupIP(host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s resolves to %s: loadchat only targets loopback addresses", host, ip)
		}
	}
	return nil
}

func load(o options, srv *server) error {
	wsURL := "ws" + strings.TrimPrefix(o.url, "http") + "/ws/chat?room=" + url.QueryEscape(o.room)
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
	defer cancel()

	// Subscribers, dialled 50 at a time.
	fmt.Printf("dialling %d subscribers…\n", o.n)
	dialStart := time.Now()
	subs := make([]*websocket.Conn, o.n)
	var received atomic.Int64
	lastSeen.Store(time.Now().UnixNano())
	lat := make([][]time.Duration, o.n)
	var readers sync.WaitGroup
	sem := make(chan struct{}, 50)
	var dialErr error
	var mu sync.Mutex
	var dialers sync.WaitGroup
	var dialOpts *websocket.DialOptions
	if o.batch {
		dialOpts = &websocket.DialOptions{Subprotocols: []string{shared.SubprotocolBatch}}
	}
	for i := range o.n {
		sem <- struct{}{}
		dialers.Go(func() {
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, wsURL+"&username=sub"+strconv.Itoa(i), dialOpts)
			if err != nil {
				mu.Lock()
				dialErr = errors.Join(dialErr, err)
				mu.Unlock()
				return
			}
			c.SetReadLimit(1 << 20)
			subs[i] = c
			readers.Go(func() { lat[i] = receive(ctx, c, &received) })
		})
	}
	dialers.Wait()
	if dialErr != nil {
		closeAll(subs)
		return fmt.Errorf("dial: %w", dialErr)
	}
	fmt.Printf("dialled in %v\n", time.Since(dialStart).Round(time.Millisecond))
	// Each join is broadcast to the members already there: N²/2 messages
	// in all. Let that storm pass before measuring the messages.
	for quiet := time.Now(); ; {
		time.Sleep(100 * time.Millisecond)
		if seen := lastSeen.Load(); seen > quiet.UnixNano() {
			quiet = time.Unix(0, seen)
		} else if time.Since(quiet) > 500*time.Millisecond {
			break
		}
		if time.Since(dialStart) > time.Minute {
			closeAll(subs)
			return errors.New("the joins did not settle within a minute")
		}
	}
	fmt.Printf("every join delivered to every member %v after the first dial\n", time.Since(dialStart).Round(time.Millisecond))

	pub, _, err := websocket.Dial(ctx, wsURL+"&username=publisher", nil)
	if err != nil {
		closeAll(subs)
		return fmt.Errorf("dial the publisher: %w", err)
	}
	pub.SetReadLimit(1 << 20) // the user list of a big room
	go func() {               // the publisher's own copies: read and drop
		for {
			if _, _, err := pub.Read(ctx); err != nil {
				return
			}
		}
	}()

	cpuBefore := srv.cpu()
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	tick := time.NewTicker(interval)
	pad := strings.Repeat("x", o.size-30)
	sent := 0
	for time.Since(start) < o.duration {
		<-tick.C
		content := "ts=" + strconv.FormatInt(time.Now().UnixNano(), 10) + " " + pad
		msg, _ := json.Marshal(map[string]string{"type": "text", "content": content})
		if err := pub.Write(ctx, websocket.MessageText, msg); err != nil {
			tick.Stop()
			closeAll(subs)
			return fmt.Errorf("publish: %w", err)
		}
		sent++
	}
	tick.Stop()
	publishTime := time.Since(start)

	expected := int64(sent) * int64(o.n)
	drain := time.Now().Add(15 * time.Second)
	for received.Load() < expected && time.Now().Before(drain) {
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpuAfter := srv.cpu()

	pub.Close(websocket.StatusNormalClosure, "")
	closeAll(subs)
	readers.Wait()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	fmt.Printf("\nsubscribers %d, published %d in %v (%.0f/s), message %d B\n", o.n, sent, publishTime.Round(time.Millisecond), float64(sent)/publishTime.Seconds(), o.size)
	fmt.Printf("delivered   %d of %d (%.2f%%)\n", received.Load(), expected, 100*float64(received.Load())/float64(expected))
	fmt.Printf("latency     p50 %v  p99 %v  max %v\n", pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if srv != nil {
		cpu := cpuAfter - cpuBefore
		fmt.Printf("server CPU  %v over %v (%.0f%% of one core)\n", cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), 100*cpu.Seconds()/elapsed.Seconds())
	}
	fmt.Printf("machine     %d cores, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}

// lastSeen is when any subscriber last received anything, in Unix ns.
var lastSeen atomic.Int64

// receive counts the text messages that reach one subscriber and returns
// their latencies, parsed from the "ts=" the publisher put in the content.
func receive(ctx context.Context, c *websocket.Conn, received *atomic.Int64) []time.Duration {
	var out []time.Duration
	marker := []byte(`"content":"ts=`)
	for {
		_, frame, err := c.Read(ctx)
		if err != nil {
			return out
		}
		now := time.Now()
		lastSeen.Store(now.UnixNano())
		for data := range shared.Lines(frame) { // one line unless batched
			i := bytes.Index(data, marker)
			if i < 0 || !bytes.Contains(data, []byte(`"type":"text"`)) {
				continue // join, leave, history, user list
			}
			digits := data[i+len(marker):]
			if j := bytes.IndexByte(digits, ' '); j > 0 {
				if ns, err := strconv.ParseInt(string(digits[:j]), 10, 64); err == nil {
					out = append(out, now.Sub(time.Unix(0, ns)))
					received.Add(1)
				}
			}
		}
	}
}

func closeAll(conns []*websocket.Conn) {
	var wg sync.WaitGroup
	for _, c := range conns {
		if c != nil {
			wg.Go(func() { c.Close(websocket.StatusNormalClosure, "") })
		}
	}
	wg.Wait()
}

// server is a wsplay server this tool started.
type server struct {
	url  string
	cmd  *exec.Cmd
	dir  string
	logs io.Closer
}

func startServer() (*server, error) {
	dir, err := os.MkdirTemp("", "loadchat-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "wsplay")
	if out, err := exec.Command("go", "build", "-o", bin, "./server").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build the server (run from the module root): %w\n%s", err, out)
	}
	// While thousands join, each early member is sent a join for each later
	// one: its queue must hold them.
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-log-format", "json", "-send-queue", "16384",
		// The publisher sends faster than a person may.
		"-message-rate", "100000", "-message-burst", "100000", "-address-rate", "100000", "-address-burst", "100000",
		// Every subscriber comes from 127.0.0.1.
		"-max-conns", "20000", "-max-conns-per-ip", "20000")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir, logs: pw}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec struct{ Msg, Addr, Level string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			} else if rec.Level == "WARN" || rec.Level == "ERROR" {
				fmt.Fprintln(os.Stderr, "server:", sc.Text())
			}
		}
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
		return s, nil
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("the server did not start")
	}
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s.logs.Close()
	os.RemoveAll(s.dir)
}

// cpu returns the server's user and system CPU time so far (Linux), or 0.
func (s *server) cpu() time.Duration {
	if s == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
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
