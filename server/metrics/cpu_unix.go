//go:build unix

package metrics

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time the process has used, user and
// system, as the kernel accounts it.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
