package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// The black-box tests (FAULTS layer B) run the server as users do: a
// built binary, configured by flags only, talked to over loopback, and
// stopped with a signal.

// buildWsplay builds the server into a directory of the test's.
func buildWsplay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsplay")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// wsplayProc is a running server process.
type wsplayProc struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	addr   string        // host:port it listens on
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited is closed
}

// startWsplay runs bin with args (plus JSON logs on 127.0.0.1:0 unless
// args say otherwise) and waits until it listens. The process is killed
// when the test ends, if it still runs; its log is printed if the test
// failed.
func startWsplay(t *testing.T, bin string, args ...string) *wsplayProc {
	t.Helper()
	if !slices.Contains(args, "-addr") {
		args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	}
	args = append(args, "-log-format", "json")
	p := &wsplayProc{cmd: exec.Command(bin, args...), logs: &syncBuffer{}, exited: make(chan struct{})}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) { // flags alone configure the server
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stderr = p.logs
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server log (%s):\n%s", strings.Join(args, " "), lastLines(p.logs.String(), 60))
		}
	})
	p.addr = listenAddrIn(t, p.logs.String)
	return p
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// stop sends sig and waits up to 10 s for the exit, returning its status.
func (p *wsplayProc) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
		return p.err
	case <-time.After(10 * time.Second):
		t.Fatalf("the server did not exit within 10 s of %v", sig)
		return nil
	}
}

// noKeepAlive is an HTTP client whose connections end with each request,
// so that the server's connection counts mean only the WebSockets.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// healthz returns the connection count the server reports.
func (p *wsplayProc) healthz(t *testing.T) int {
	t.Helper()
	resp, err := noKeepAlive.Get("http://" + p.addr + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct{ Connections int }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.Connections
}

// dialWS opens a WebSocket to path; on a refusal it returns the HTTP
// status (and a nil conn).
func (p *wsplayProc) dialWS(path string, header ...http.Header) (*websocket.Conn, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: noKeepAlive}
	if len(header) > 0 {
		opts.HTTPHeader = header[0]
	}
	c, resp, err := websocket.Dial(ctx, "ws://"+p.addr+path, opts)
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode, err
		}
		return nil, 0, err
	}
	return c, http.StatusSwitchingProtocols, nil
}

// echoRoundTrip checks that c still echoes.
func echoRoundTrip(c *websocket.Conn, text string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		return err
	}
	_, got, err := c.Read(ctx)
	if err == nil && string(got) != text {
		err = fmt.Errorf("echoed %q, sent %q", got, text)
	}
	return err
}

// openFDs counts the process's open descriptors, or returns -1 where
// /proc does not tell.
func (p *wsplayProc) openFDs() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// FAULTS row 23, black box: sockets from one address and one user until
// the caps refuse them with 429 before the upgrade; the sessions already
// open keep working through a burst of 200 handshakes a second; a closed
// session frees its place; and afterwards the server is back to its
// baseline of connections and descriptors.
func TestFault23_CapsOnARealServer(t *testing.T) {
	t.Parallel()
	const perIP, perUser = 50, 10
	p := startWsplay(t, buildWsplay(t), "-data", t.TempDir(), "-jwt-secret", testJWTSecret,
		"-max-conns-per-ip", fmt.Sprint(perIP), "-max-conns-per-user", fmt.Sprint(perUser))
	require.Zero(t, p.healthz(t))
	baseFDs := p.openFDs()

	// One user, proven by a token: perUser chat connections, then 429.
	ada := http.Header{"Authorization": {"Bearer " + goodToken(t, "ada")}}
	var chats []*websocket.Conn
	for i := range perUser + 1 {
		c, status, err := p.dialWS("/ws/chat?room=caps", ada)
		if i == perUser {
			require.Error(t, err)
			require.Equal(t, http.StatusTooManyRequests, status, "connection %d of one user: %v", i+1, err)
			break
		}
		require.NoError(t, err, "connection %d of one user", i+1)
		defer c.CloseNow()
		chats = append(chats, c)
	}

	// One address: anonymous echo sockets until refused; the loop is
	// bounded well past the cap.
	var echoes []*websocket.Conn
	refusedAt := -1
	for i := range 1000 {
		c, status, err := p.dialWS("/ws/echo")
		if err != nil {
			require.Equal(t, http.StatusTooManyRequests, status, "echo %d: %v", i+1, err)
			refusedAt = i
			break
		}
		defer c.CloseNow()
		echoes = append(echoes, c)
	}
	require.Equal(t, perIP-perUser, refusedAt, "the per-address cap counts every endpoint")
	// A session counts on /healthz once registered, just after its 101.
	eventually(t, "every session registered", func() bool { return p.healthz(t) == perIP })

	// A burst of handshakes at the cap: 200 a second for 2 s, each
	// refused with 429, none upgraded, none cut off. Meanwhile the open
	// sessions keep echoing.
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(5 * time.Millisecond)
	stopEcho := make(chan struct{})
	var echoWG sync.WaitGroup
	echoWG.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stopEcho:
				return
			default:
			}
			if err := echoRoundTrip(echoes[i%len(echoes)], fmt.Sprint("during the burst ", i)); err != nil {
				t.Errorf("an open session failed during the burst: %v", err)
				return
			}
		}
	})
	for range 400 {
		<-tick.C
		wg.Go(func() {
			c, status, err := p.dialWS("/ws/echo")
			if c != nil {
				c.CloseNow()
			}
			if status == 0 {
				status = -1
				t.Logf("handshake failed without an answer: %v", err)
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()
	close(stopEcho)
	echoWG.Wait()
	assert.Equal(t, map[int]int{http.StatusTooManyRequests: 400}, statuses, "every handshake over the cap gets 429")

	// Every open session still works: echo and chat.
	for i, c := range echoes {
		require.NoError(t, echoRoundTrip(c, fmt.Sprint("after ", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, chats[0].Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"still here"}`)))
	for {
		_, data, err := chats[perUser-1].Read(ctx)
		require.NoError(t, err)
		if bytes.Contains(data, []byte("still here")) {
			break
		}
	}

	// A session that ends frees its place.
	echoes[0].Close(websocket.StatusNormalClosure, "")
	eventually(t, "a free place", func() bool { return p.healthz(t) == perIP-1 })
	c, _, err := p.dialWS("/ws/echo")
	require.NoError(t, err)
	echoes[0] = c

	for _, c := range append(echoes, chats...) {
		c.Close(websocket.StatusNormalClosure, "")
	}
	eventually(t, "no connections", func() bool { return p.healthz(t) == 0 })
	if baseFDs >= 0 {
		eventually(t, "descriptors back to the baseline", func() bool { return p.openFDs() <= baseFDs },
			func() string { return fmt.Sprintf("%d open, %d at the start", p.openFDs(), baseFDs) })
	}
	require.NoError(t, p.stop(t, syscall.SIGTERM), "exit status")
}

// postNotes posts notifications to users round-robin from workers
// goroutines until stop is closed, recording the id of every one answered
// 201, and how many were refused otherwise.
type notePoster struct {
	addr, token string

	mu       sync.Mutex // guards the fields below
	accepted map[string][]string
	refused  int
}

func (np *notePoster) run(stop <-chan struct{}, worker int, users []string) {
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		user := users[(worker+i)%len(users)]
		body := fmt.Sprintf(`{"user_id":%q,"title":"w%d-%d"}`, user, worker, i)
		req, _ := http.NewRequest(http.MethodPost, "http://"+np.addr+"/api/notifications", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+np.token)
		resp, err := client.Do(req)
		var n shared.Notification
		if err == nil {
			if resp.StatusCode == http.StatusCreated {
				err = json.NewDecoder(resp.Body).Decode(&n)
			} else {
				err = errors.New(resp.Status)
			}
			resp.Body.Close()
		}
		np.mu.Lock()
		if err == nil {
			np.accepted[user] = append(np.accepted[user], n.ID)
		} else {
			np.refused++
		}
		np.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond) // the server is going: do not spin
		}
	}
}

func (np *notePoster) count() (accepted, refused int) {
	np.mu.Lock()
	defer np.mu.Unlock()
	for _, ids := range np.accepted {
		accepted += len(ids)
	}
	return accepted, np.refused
}

// FAULTS row 24, black box: SIGTERM while 200 clients (echo, chat and
// notification tabs) are connected and notifications are being posted.
// Every client gets 1001, all at once; new handshakes are refused; the
// process exits 0 soon after; and every notification answered 201 is in
// the store when the server starts again on the same data.
func TestFault24_SIGTERMWith200ClientsAndPostsInFlight(t *testing.T) {
	t.Parallel()
	bin := buildWsplay(t)
	data := t.TempDir()
	const admin = "blackbox-admin-token-0123456789"
	p := startWsplay(t, bin, "-data", data, "-admin-token", admin)

	const echoes, chatters, tabs = 80, 80, 40
	var tabUsers []string
	var paths []string
	for i := range echoes {
		paths = append(paths, fmt.Sprintf("/ws/echo?n=%d", i))
	}
	for i := range chatters {
		paths = append(paths, fmt.Sprintf("/ws/chat?room=r%d&username=c%d", i%4, i))
	}
	for i := range tabs {
		tabUsers = append(tabUsers, fmt.Sprintf("u%d", i))
		paths = append(paths, "/ws/notifications?user_id="+tabUsers[i])
	}
	type ending struct {
		path string
		code websocket.StatusCode
		at   time.Time
	}
	endings := make(chan ending, len(paths))
	var readers sync.WaitGroup
	for _, path := range paths {
		c, _, err := p.dialWS(path)
		require.NoError(t, err, path)
		defer c.CloseNow()
		readers.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for {
				if _, _, err := c.Read(ctx); err != nil {
					endings <- ending{path, websocket.CloseStatus(err), time.Now()}
					return
				}
			}
		})
	}
	eventually(t, "200 connections", func() bool { return p.healthz(t) == len(paths) })

	np := &notePoster{addr: p.addr, token: admin, accepted: map[string][]string{}}
	stop := make(chan struct{})
	var posters sync.WaitGroup
	for w := range 4 {
		posters.Go(func() { np.run(stop, w, tabUsers) })
	}
	eventually(t, "posts flowing", func() bool { n, _ := np.count(); return n >= 50 })

	signalled := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	var first, last time.Time
	for range paths {
		select {
		case e := <-endings:
			assert.Equal(t, websocket.StatusGoingAway, e.code, "%s", e.path)
			if first.IsZero() {
				first = e.at
			}
			last = e.at
		case <-time.After(15 * time.Second):
			t.Fatal("not every client was closed within 15 s of SIGTERM")
		}
	}
	readers.Wait()
	// New handshakes are refused: 503 while the listener closes, or no
	// listener at all.
	if c, status, err := p.dialWS("/ws/echo"); err == nil {
		c.CloseNow()
		t.Error("a handshake after SIGTERM was accepted")
	} else if status != 0 {
		assert.Equal(t, http.StatusServiceUnavailable, status)
	}
	select {
	case <-p.exited:
		require.NoError(t, p.err, "exit status after SIGTERM")
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit within 10 s of SIGTERM")
	}
	exited := time.Now()
	close(stop)
	posters.Wait()
	accepted, refused := np.count()
	t.Logf("SIGTERM with %d clients: first 1001 after %v, last after %v (spread %v); exit after %v; %d posts accepted, %d refused",
		len(paths), first.Sub(signalled).Round(time.Millisecond), last.Sub(signalled).Round(time.Millisecond),
		last.Sub(first).Round(time.Millisecond), exited.Sub(signalled).Round(time.Millisecond), accepted, refused)
	// "About a second": each client answers its own close frame, so the
	// closes do not queue behind each other. Generous, for a busy machine.
	assert.Less(t, last.Sub(signalled), 5*time.Second, "all clients closed")

	// Every 201 is stored.
	again := startWsplay(t, bin, "-data", data, "-admin-token", admin)
	for user, ids := range np.accepted {
		req, _ := http.NewRequest(http.MethodGet, "http://"+again.addr+"/api/notifications?user_id="+url.QueryEscape(user), nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := noKeepAlive.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		var list struct{ Notifications []shared.Notification }
		require.NoError(t, json.Unmarshal(b, &list))
		var stored []string
		for i, n := range list.Notifications {
			require.Equal(t, uint64(i+1), n.Seq, "%s: no gap in the sequence", user)
			stored = append(stored, n.ID)
		}
		for _, id := range ids {
			assert.Contains(t, stored, id, "%s: answered 201, then lost", user)
		}
	}
	require.NoError(t, again.stop(t, syscall.SIGTERM))
}
