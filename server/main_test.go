package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer that the server's logger and the test may
// use at once.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logRecords parses JSON log lines; other lines are skipped.
func logRecords(logs string) []map[string]any {
	var recs []map[string]any
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}

// findLog returns the first JSON log record with the message msg.
func findLog(logs, msg string) (map[string]any, bool) {
	for _, rec := range logRecords(logs) {
		if rec["msg"] == msg {
			return rec, true
		}
	}
	return nil, false
}

// listeningAddr waits for the "listening" log line and returns its address.
func listeningAddr(t *testing.T, logs func() string) string {
	t.Helper()
	var addr string
	eventually(t, "the server to log its address", func() bool {
		rec, ok := findLog(logs(), "listening")
		if ok {
			addr, _ = rec["addr"].(string)
		}
		return ok
	})
	require.NotEmpty(t, addr, "listening line without addr: %s", logs())
	return addr
}

// dialEcho connects a coder/websocket client to addr's echo endpoint and
// checks that it echoes.
func dialEcho(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws/echo", nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseNow() })
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello")))
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "hello", string(data))
	return c
}

// closeCodes reads each connection until it ends, all at once, and returns
// the close codes (-1 for an end without a close frame) once every
// connection has ended or 10 s have passed.
func closeCodes(conns []*websocket.Conn) <-chan websocket.StatusCode {
	codes := make(chan websocket.StatusCode, len(conns))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					codes <- websocket.CloseStatus(err)
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(codes)
	}()
	return codes
}

// health fetches /healthz.
func health(t *testing.T, baseURL string) (status int, body map[string]any) {
	t.Helper()
	resp, err := http.Get(baseURL + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestRunShutsDownOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	runErr := make(chan error, 1)
	go func() {
		runErr <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "debug", "-data", t.TempDir()}, env(nil), &logs)
	}()
	addr := listeningAddr(t, logs.String)

	const n = 5
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = dialEcho(t, addr)
	}
	status, body := health(t, "http://"+addr)
	assert.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, n, body["connections"])

	codes := closeCodes(conns)
	cancel()
	for code := range codes {
		assert.Equal(t, websocket.StatusGoingAway, code)
	}
	select {
	case err := <-runErr:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	rec, ok := findLog(logs.String(), "shutting down")
	require.True(t, ok, "logs: %s", logs.String())
	assert.EqualValues(t, n, rec["connections"])
	_, ok = findLog(logs.String(), "stopped")
	assert.True(t, ok, "logs: %s", logs.String())
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() }) // after the parallel cases, unlike defer
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad flag", []string{"-read-limit", "0"}, nil, "-read-limit 0"},
		{"bad environment", nil, map[string]string{"WSPLAY_PONG_WAIT": "soon"}, "WSPLAY_PONG_WAIT"},
		{"address in use", []string{"-addr", busy.Addr().String(), "-data", t.TempDir()}, nil, "listen"},
		{"site directory missing", []string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-site-dir", filepath.Join(t.TempDir(), "nope")}, nil, "no index.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Should run start serving after all, it stops after 5 s.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, tt.args, env(tt.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("help", func(t *testing.T) {
		t.Parallel()
		var out bytes.Buffer
		err := run(context.Background(), []string{"-h"}, env(nil), &out)
		require.ErrorIs(t, err, flag.ErrHelp)
		assert.Contains(t, out.String(), "WSPLAY_ADDR")
	})
}

// The server as users run it: a built binary, 50 clients, SIGTERM (FAULTS
// row 24, for echo).
func TestFault24_SIGTERMBlackBox(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "wsplay")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	var logs syncBuffer
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-log-format", "json", "-data", t.TempDir())
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) { // the server's settings come from the flags alone
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{}) // closed when the process has exited
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	addr := listeningAddr(t, logs.String)

	const n = 50
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = dialEcho(t, addr)
	}
	status, body := health(t, "http://"+addr)
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, n, body["connections"])

	codes := closeCodes(conns)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	got := 0
	for code := range codes {
		assert.Equal(t, websocket.StatusGoingAway, code)
		got++
	}
	assert.Equal(t, n, got)

	// Shutdown has begun: a new handshake is refused, by the listener being
	// gone or by a 503 while it closes.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws/echo", nil)
	if c != nil {
		c.CloseNow()
	}
	require.Error(t, err, "a handshake after SIGTERM succeeded")
	if resp != nil {
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	} else {
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF),
			"refused: %v", err)
	}

	select {
	case <-exited:
		require.NoError(t, exitErr, "exit status")
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not exit within 5 s of SIGTERM")
	}
	rec, ok := findLog(logs.String(), "stopped")
	require.True(t, ok, "no stopped line")
	took, _ := rec["took"].(float64) // slog writes a Duration as nanoseconds
	t.Logf("shutdown with %d clients took %v", n, time.Duration(took))
}

// The tools that run the server as a process of its own (scripts/loadchat,
// the client's SIGKILL test) find its address in the JSON log: the
// listening line must keep the shape they look for.
func TestListeningLineShape(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	runErr := make(chan error, 1)
	go func() {
		runErr <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-format", "json", "-data", t.TempDir()}, env(nil), &logs)
	}()
	addr := listeningAddr(t, logs.String)
	cancel()
	require.NoError(t, <-runErr)
	var found bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"msg":"listening","addr":"`+addr+`"`) {
			found = true
		}
	}
	assert.True(t, found, "the tools look for \"msg\":\"listening\",\"addr\":\"...\" in: %s", logs.String())
}
