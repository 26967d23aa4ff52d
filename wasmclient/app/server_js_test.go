package app

import "os"

// startServer uses the server scripts/test started, as a WebAssembly
// program cannot start processes.
func startServer() (string, func() error, error) {
	return os.Getenv("WSPLAY_TEST_URL"), func() error { return nil }, nil
}
