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
	"syscall"
	"time"
)

// startServer builds the real server and runs it on a free loopback port,
// as a user would with scripts/run. It returns the server's URL and a
// function that stops it with SIGTERM and reports an unclean exit.
func startServer() (url string, stop func() error, err error) {
	if u := os.Getenv("WSPLAY_TEST_URL"); u != "" {
		return u, func() error { return nil }, nil
	}
	dir, err := os.MkdirTemp("", "wsplay-app-test-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "wsplay")
	if out, err := exec.Command("go", "build", "-o", bin, "../../server").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build the server: %w\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-log-format", "json")
	logs, logw := io.Pipe()
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	scanned := make(chan struct{})
	stop = func() error {
		defer os.RemoveAll(dir)
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		logw.Close()
		<-scanned
		return err
	}
	// The server logs its address once it listens.
	addr := make(chan string, 1)
	go func() {
		defer close(scanned)
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
	}()
	select {
	case a := <-addr:
		return "http://" + a, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("the server did not start within 30 s")
	}
}
