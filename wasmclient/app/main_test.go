package app

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// serverURL is the http URL of a real wsplay server for the tests that
// need one: started by TestMain natively, given by scripts/test in
// WSPLAY_TEST_URL when the tests run as WebAssembly under Node.
var serverURL string

func TestMain(m *testing.M) {
	url, stop, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start a test server:", err)
		os.Exit(1)
	}
	serverURL = url
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the test server:", err)
		code = 1
	}
	if code == 0 {
		// runtime.handleEvent is the js/wasm runtime's own event handler.
		if err := findLeaks(goleak.IgnoreAnyFunction("runtime.handleEvent")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// needServer skips a test when no server is available, which happens only
// when the WebAssembly tests run without scripts/test.
func needServer(t *testing.T) string {
	t.Helper()
	if serverURL == "" {
		t.Skip("no test server: set WSPLAY_TEST_URL (scripts/test does)")
	}
	return serverURL
}
