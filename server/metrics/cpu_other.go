//go:build !unix

package metrics

import (
	rtmetrics "runtime/metrics"
	"time"
)

// processCPUTime estimates the CPU time the process has used from the Go
// runtime's own accounting, where getrusage is not available: time
// available to Go (GOMAXPROCS times wall time) minus idle time. It
// overestimates a little and misses time spent outside Go, such as in
// system calls.
func processCPUTime() time.Duration {
	s := []rtmetrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindFloat64 || s[1].Value.Kind() != rtmetrics.KindFloat64 {
		return 0
	}
	return time.Duration((s[0].Value.Float64() - s[1].Value.Float64()) * float64(time.Second))
}
