package app

import (
	"time"

	"go.uber.org/goleak"
)

// findLeaks is goleak.Find with a longer patience: goleak retries for
// about half a second, and on a busy machine a connection's goroutines may
// take longer than that to return after it closed. A real leak stays.
// (Natively it is servertest's; servertest does not build for the
// browser.)
func findLeaks(opts ...goleak.Option) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
