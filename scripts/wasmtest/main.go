// Command wasmtest runs the client's tests compiled to WebAssembly under
// Node, against a real server that it runs in process (servertest), the
// way scripts/test does:
//
//	go run ./scripts/wasmtest [go test flags]
//
// It needs Node.js 20 or later. The flags go to go test, such as -run
// Echo; the packages are ./shared/... and ./wasmclient/.... The server is
// command wsplay's defaults with its data in a temporary directory, and
// WSPLAY_TEST_URL tells the tests where it is. It exits with go test's
// status, or 1 if the server did not shut down cleanly.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"wsplay/server/servertest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "wasmtest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	execWasm := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "go_js_wasm_exec")
	data, err := os.MkdirTemp("", "wsplay-wasmtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	// Every test's clients come from 127.0.0.1 and share the server: the
	// limit per address would count them all as one sender.
	cfg := servertest.CommandDefaults(data)
	cfg.Chat.AddressRate, cfg.Chat.AddressBurst = 1e6, 1e6
	srv, err := servertest.New(cfg, servertest.Options{})
	if err != nil {
		return fmt.Errorf("start the test server: %w", err)
	}
	testArgs := append([]string{"test", "-count=1", "-exec=" + execWasm}, args...)
	cmd := exec.Command("go", append(testArgs, "./shared/...", "./wasmclient/...")...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Node 20 has a global WebSocket only behind this flag; later
	// versions accept it and ignore it.
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "WSPLAY_TEST_URL="+srv.URL, "NODE_OPTIONS=--experimental-websocket")
	testErr := cmd.Run()
	if err := srv.Close(); err != nil {
		return errors.Join(testErr, fmt.Errorf("the test server did not shut down cleanly: %w", err))
	}
	return testErr
}
