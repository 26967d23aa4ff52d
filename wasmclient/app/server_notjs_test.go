//go:build !js

package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"wsplay/server/playground"
	"wsplay/server/servertest"
)

// startServer starts the server the tests share: WSPLAY_TEST_URL if set,
// else the real server in process, as command wsplay runs it with no
// flags, its data in a temporary directory.
func startServer() (url string, stop func() error, err error) {
	if u := os.Getenv("WSPLAY_TEST_URL"); u != "" {
		return u, func() error { return nil }, nil
	}
	data, err := os.MkdirTemp("", "wsplay-app-data-")
	if err != nil {
		return "", nil, err
	}
	var log io.Writer
	if os.Getenv("WSPLAY_TEST_SERVER_LOG") != "" {
		log = os.Stderr
	}
	// Every test's clients come from 127.0.0.1 and share the server: the
	// limit per address would count them all as one sender.
	cfg := servertest.CommandDefaults(data)
	cfg.Chat.AddressRate, cfg.Chat.AddressBurst = 1e6, 1e6
	srv, err := servertest.New(cfg, servertest.Options{Log: log})
	if err != nil {
		os.RemoveAll(data)
		return "", nil, err
	}
	return srv.URL, func() error {
		err := srv.Close()
		os.RemoveAll(data)
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		return err
	}, nil
}

// startServerAt runs a server of cfg on addr until the test ends or
// Close: for a test that stops the server and starts another where its
// clients look.
func startServerAt(t *testing.T, cfg playground.Config, addr string) *servertest.Server {
	t.Helper()
	return servertest.Start(t, cfg, servertest.Options{Addr: addr, Log: io.Discard})
}

// findLeaks is servertest's goleak with patience.
func findLeaks(opts ...goleak.Option) error { return servertest.FindLeaks(opts...) }

// The one test that needs the server as a process of its own is the one
// that kills it: nothing but SIGKILL stops a server without a single
// close frame or flush. It builds the binary once.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func buildServer() (string, error) {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "wsplay-app-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsplay")
		if out, err := exec.Command("go", "build", "-o", binPath, "../../server").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the server: %w\n%s", err, out)
		}
	})
	return binPath, buildErr
}

// serverProcess is the real server running as a process, as a user would
// run it with scripts/run.
type serverProcess struct {
	URL     string // http://127.0.0.1:port
	Addr    string
	cmd     *exec.Cmd
	logw    *io.PipeWriter
	scanned chan struct{}
}

// startProcess runs the server with args (and -log-format json) and waits
// until it listens: the address is in its "listening" log line.
func startProcess(args ...string) (*serverProcess, error) {
	bin, err := buildServer()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append(args, "-log-format", "json")...)
	logs, logw := io.Pipe()
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd, logw: logw, scanned: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.scanned)
		lines := bufio.NewScanner(logs)
		sent := false
		for lines.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "listening" && !sent {
				addr <- rec.Addr
				sent = true
			}
			if os.Getenv("WSPLAY_TEST_SERVER_LOG") != "" {
				fmt.Fprintln(os.Stderr, "server:", lines.Text())
			}
		}
		io.Copy(io.Discard, logs)
	}()
	select {
	case a := <-addr:
		p.Addr, p.URL = a, "http://"+a
		return p, nil
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("the server did not start within 30 s")
	}
}

// stop sends SIGTERM and waits; it reports an unclean exit.
func (p *serverProcess) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	p.logw.Close()
	<-p.scanned
	return err
}
