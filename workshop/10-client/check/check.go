// Package check is the checker of exercise 10. It runs the project's real
// chat server on a loopback port, lets the learner's client join, stops
// the server and starts it again on the same address with the same
// history, keeps the learner's client out for two seconds (answering its
// handshakes 503, and counting them) while another client talks and the
// learner's client has a line typed, then lets it back in.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"wsplay/server/chat"
	"wsplay/server/servertest"
	"wsplay/shared"
	"wsplay/workshop/internal/serve"

	"wsplay/workshop/internal/tasks"
)

// Client is what the checker needs of the learner's client.
type Client interface {
	Run(ctx context.Context) error
	Send(ctx context.Context, text string)
}

// NewClient makes the learner's client for url, with the backoff bounds,
// calling onText with each text message it hands on.
type NewClient func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) Client

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"reconnect with jittered backoff", "after a failed attempt wait a random time between 0 and a ceiling (rand.Int64N), starting at Min and doubling after each failure up to Max; back to Min once connected"},
	{"resume exactly: nothing twice, nothing lost", "remember the epoch of the history and the newest seq handed on, reconnect with ?since=SEQ&epoch=EPOCH, and never hand on a seq you have handed on already"},
	{"nothing typed is lost", "keep every message sent in an outbox, with an id of its own, until the room sends it back; after each reconnection send the outbox again: the room takes a resend with the same id as the same message"},
	{"the same client, compiled to WebAssembly", "tasks 1 to 3 first; then, if only this fails, look for what differs in the browser: coder/websocket's Dial there takes no HTTP client, and a blocking call on the main goroutine stops everything"},
}

const (
	minWait = 100 * time.Millisecond
	maxWait = 800 * time.Millisecond
	away    = 2 * time.Second
)

// Run plays the scene with the learner's client, then judges each task;
// task 4 plays it again with wasmMain, the main package that runs the
// same client compiled to WebAssembly, under Node.
func Run(t *testing.T, newClient NewClient, wasmMain string) {
	r := play(t, inProcess(newClient))
	task := func(n int, f func(t *testing.T)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			f(t)
		})
	}
	task(1, func(t *testing.T) {
		switch n := r.attempts; {
		case n < 2:
			t.Fatalf("Task 1: the server was back (refusing the client with 503) for %v, and the client tried %d times: it must keep trying", away, n)
		case n > 40:
			t.Fatalf("Task 1: the server refused the client with 503 for %v, and the client tried %d times: without a wait between attempts, every client that lost the server hammers it as it comes back", away, n)
		}
		if !r.back {
			t.Fatal("Task 1: the client did not come back once the server let it in")
		}
	})
	task(2, func(t *testing.T) {
		if want := []string{"m1", "m2", "m3", "m4"}; !slices.Equal(without(r.seen, r.typed), want) {
			t.Fatalf("Task 2: the client saw m1 and m2, lost the server, and m3 and m4 were said while it was away; it handed on %q (its own line left out), expected exactly %q", without(r.seen, r.typed), want)
		}
	})
	task(3, func(t *testing.T) {
		if n := count(r.bobSaw, r.typed); n != 1 {
			t.Fatalf("Task 3: a line was typed while the client was away (%q); the room received it %d times, expected once", r.typed, n)
		}
		if n := count(r.seen, r.typed); n != 1 {
			t.Fatalf("Task 3: the client's own line came back to it %d times, expected once", n)
		}
	})
	task(4, func(t *testing.T) {
		w := webAssembly(t, wasmMain)
		r := play(t, w)
		want := []string{"m1", "m2", "m3", "m4"}
		switch {
		case r.attempts < 2 || r.attempts > 40 || !r.back:
			t.Fatalf("Task 4: compiled to WebAssembly, the client tried %d times while kept out for %v, and came back: %v; expected a few tries, spaced out, and a return", r.attempts, away, r.back)
		case !slices.Equal(without(r.seen, r.typed), want):
			t.Fatalf("Task 4: compiled to WebAssembly, the client handed on %q (its own line left out), expected exactly %q", without(r.seen, r.typed), want)
		case count(r.bobSaw, r.typed) != 1:
			t.Fatalf("Task 4: compiled to WebAssembly, the line typed while away reached the room %d times, expected once", count(r.bobSaw, r.typed))
		}
	})
}

// result is what the scene showed.
type result struct {
	attempts int      // handshakes of the learner's client while kept out
	back     bool     // it was let in again
	seen     []string // what it handed on, in order
	bobSaw   []string // what the other client received
	typed    string
}

func without(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

func count(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// front keeps ada out while away is set, counting her handshakes, and
// hands everything else to the chat server of the moment.
type front struct {
	keepOut  atomic.Bool
	attempts atomic.Int64
	mu       sync.Mutex
	svc      *chat.Service
	control  string            // for a client in another process: "N line", N counting the lines to send
	files    map[string][]byte // the page of a client in a browser, by path
}

// controlPath is where a client in another process asks what to send.
const controlPath = "/__check/control"

// checkPrefix is where the page of a client in a browser is served.
const checkPrefix = "/__check/"

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if data, ok := f.files[r.URL.Path]; ok {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			w.Header().Set("Content-Type", "application/wasm")
		}
		w.Write(data)
		return
	}
	if r.URL.Path == controlPath {
		f.mu.Lock()
		line := f.control
		f.mu.Unlock()
		fmt.Fprint(w, line)
		return
	}
	if f.keepOut.Load() && r.URL.Query().Get("username") == "ada" {
		f.attempts.Add(1)
		http.Error(w, "the server is starting", http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	svc := f.svc
	f.mu.Unlock()
	svc.ServeHTTP(w, r)
}

func play(t *testing.T, d driver) result {
	history := chat.NewMemoryStore() // outlives the restart
	f := &front{}
	if w, ok := d.(wasmDriver); ok {
		f.files = w.files
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	start := func(ln net.Listener) (*http.Server, *chat.Service) {
		svc, err := chat.New(chat.Config{}, chat.Deps{Store: history})
		if err != nil {
			t.Fatalf("the chat server did not start: %v", err)
		}
		f.mu.Lock()
		f.svc = svc
		f.mu.Unlock()
		srv := &http.Server{Handler: f}
		go srv.Serve(ln)
		return srv, svc
	}
	stop := func(srv *http.Server, svc *chat.Service) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close()
		svc.Shutdown(ctx) // every client gets 1001 "going away"
	}
	srv, svc := start(ln)
	url := "ws://" + addr + "/ws/chat?room=lab&username="

	var mu sync.Mutex
	var seen []string
	publish := func(line string) { f.mu.Lock(); f.control = line; f.mu.Unlock() }
	ada := d.start(t, url+"ada", "http://"+addr+controlPath, publish, func(text string) {
		mu.Lock()
		seen = append(seen, text)
		mu.Unlock()
	})
	defer ada.stop()
	seenNow := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
	waitSeen := func(want int, within time.Duration) bool {
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if len(seenNow()) >= want {
				return true
			}
		}
		return false
	}

	bob := join(t, url+"bob")
	time.Sleep(300 * time.Millisecond) // ada joins
	bob.say(t, "m1", "m2")
	if !waitSeen(2, 5*time.Second) {
		t.Fatalf("the client did not hand on the first two messages of the room within 5 s (it handed on %q): does Run connect and read?", seenNow())
	}

	// The server restarts; ada is kept out for a while.
	f.keepOut.Store(true)
	stop(srv, svc)
	bob.close()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the checker could not listen on %s again: %v", addr, err)
	}
	srv, svc = start(ln)
	defer stop(srv, svc)
	bob = join(t, url+"bob")
	bob.say(t, "m3", "m4")
	typed := "typed while away"
	ada.send(typed)
	time.Sleep(away)
	f.keepOut.Store(false)
	attempts := int(f.attempts.Load())

	back := waitSeen(5, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // anything twice would have come by now
	return result{attempts: attempts, back: back, seen: seenNow(), bobSaw: bob.received(), typed: typed}
}

// talker is the other client of the room, kept simple.
type talker struct {
	c    *websocket.Conn
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

func join(t *testing.T, url string) *talker {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("the checker's own client could not join: %v", err)
	}
	c.SetReadLimit(1 << 20)
	tc := &talker{c: c, done: make(chan struct{})}
	go func() {
		defer close(tc.done)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var m shared.Message
			if json.Unmarshal(data, &m) == nil && m.Type == shared.TypeText {
				tc.mu.Lock()
				tc.got = append(tc.got, m.Content)
				tc.mu.Unlock()
			}
		}
	}()
	t.Cleanup(tc.close)
	return tc
}

func (tc *talker) say(t *testing.T, lines ...string) {
	for _, l := range lines {
		data, _ := json.Marshal(shared.Message{Type: shared.TypeText, Content: l})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := tc.c.Write(ctx, websocket.MessageText, data)
		cancel()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Fatalf("the checker's own client could not send: %v", err)
		}
	}
	// Its own lines come back once stored.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := tc.received(); len(got) > 0 && strings.Contains(strings.Join(got, "\n"), lines[len(lines)-1]) {
			return
		}
	}
}

func (tc *talker) received() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return slices.Clone(tc.got)
}

func (tc *talker) close() {
	tc.c.CloseNow()
	<-tc.done
}

// driver runs the learner's client for the scene: in this process, or
// compiled to WebAssembly under Node.
type driver interface {
	// start runs a client of url that hands each text on to onText; a
	// client in another process learns what to send from controlURL,
	// whose answer publish sets.
	start(t *testing.T, url, controlURL string, publish func(string), onText func(string)) running
}

type running interface {
	send(text string)
	stop()
}

type inProcess NewClient

func (n inProcess) start(t *testing.T, url, _ string, _ func(string), onText func(string)) running {
	c := n(url, minWait, maxWait, func(m shared.Message) { onText(m.Content) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	return &local{c: c, stopRun: func() { cancel(); <-done }}
}

type local struct {
	c       Client
	stopRun func()
}

func (l *local) send(text string) { l.c.Send(context.Background(), text) }
func (l *local) stop()            { l.stopRun() }

// wasmDriver runs a main package compiled to WebAssembly in headless
// Chromium. (Under Node, coder/websocket's browser build does not see a
// refused handshake until its dial times out; a browser says at once.)
type wasmDriver struct{ files map[string][]byte }

// webAssembly builds pkg for the browser (GOOS=js GOARCH=wasm), with
// Go's wasm_exec.js and a page that runs it.
func webAssembly(t *testing.T, pkg string) wasmDriver {
	t.Helper()
	bin, execJS, err := serve.BuildWasm(pkg)
	if err != nil {
		t.Fatalf("Task 4: the client does not build for WebAssembly:\n%v", err)
	}
	return wasmDriver{files: map[string][]byte{
		checkPrefix + "client.wasm":  bin,
		checkPrefix + "wasm_exec.js": execJS,
		checkPrefix + "page.html":    []byte(page),
	}}
}

const page = `<!doctype html><meta charset="utf-8"><title>client</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("client.wasm"), go.importObject).then(r => go.run(r.instance));
</script>`

func (w wasmDriver) start(t *testing.T, url, controlURL string, publish func(string), onText func(string)) running {
	ctx := servertest.Browser(t)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && len(e.Args) > 0 {
			var line string
			if json.Unmarshal(e.Args[0].Value, &line) == nil {
				if text, ok := strings.CutPrefix(line, "text "); ok {
					onText(text)
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	origin := strings.TrimSuffix(controlURL, controlPath)
	q := neturl.Values{"url": {url}, "control": {controlURL}}
	if err := chromedp.Do(ctx, chromedp.Navigate(origin+checkPrefix+"page.html?"+q.Encode())); err != nil {
		t.Fatalf("Task 4: could not open the client's page in Chromium: %v", err)
	}
	return &remote{ctx: ctx, publish: publish}
}

type remote struct {
	ctx     context.Context
	publish func(string)
	sends   int
}

func (r *remote) send(text string) {
	r.sends++
	r.publish(fmt.Sprintf("%d %s", r.sends, text))
}

func (r *remote) stop() { chromedp.Do(r.ctx, chromedp.Navigate("about:blank")) }
