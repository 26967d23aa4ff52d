package metrics

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"time"
)

// ProcessReader reads the process figures the dashboard shows. The
// runtime/metrics package is the modern source for them: reading it does
// not stop the world, unlike runtime.ReadMemStats. Each sampler has its own
// reader, because the samples are reused between reads.
type ProcessReader struct {
	samples []rtmetrics.Sample
}

// The runtime/metrics names read, in the order of ProcessReader.samples.
const (
	rtHeapObjects = "/memory/classes/heap/objects:bytes"
	rtGoroutines  = "/sched/goroutines:goroutines"
	// Stop-the-world pauses for GC; it replaced /gc/pauses:seconds,
	// which Go 1.22 deprecated and which reports the same data.
	rtGCPauses = "/sched/pauses/total/gc:seconds"
)

// ProcessReading is the process at one moment.
type ProcessReading struct {
	At         time.Time     // when CPU was read
	CPU        time.Duration // CPU time used since start, user and system
	HeapBytes  uint64        // bytes of live and not yet swept heap objects
	Goroutines uint64
	// GCPauseCounts and GCPauseBounds are the cumulative pause histogram:
	// GCPauseCounts[i] pauses were in [GCPauseBounds[i], GCPauseBounds[i+1]).
	GCPauseCounts []uint64
	GCPauseBounds []float64
}

// NewProcessReader returns a reader of this process.
func NewProcessReader() *ProcessReader {
	return &ProcessReader{samples: []rtmetrics.Sample{
		{Name: rtHeapObjects}, {Name: rtGoroutines}, {Name: rtGCPauses},
	}}
}

// Read reads the process now.
func (p *ProcessReader) Read() ProcessReading {
	rtmetrics.Read(p.samples)
	r := ProcessReading{CPU: processCPUTime(), At: time.Now()}
	if v := p.samples[0].Value; v.Kind() == rtmetrics.KindUint64 {
		r.HeapBytes = v.Uint64()
	}
	if v := p.samples[1].Value; v.Kind() == rtmetrics.KindUint64 {
		r.Goroutines = v.Uint64()
	}
	if v := p.samples[2].Value; v.Kind() == rtmetrics.KindFloat64Histogram {
		h := v.Float64Histogram()
		// Read reuses the histogram's memory on the next call: copy it.
		r.GCPauseCounts = slices.Clone(h.Counts)
		r.GCPauseBounds = h.Buckets // the bounds never change
	}
	return r
}

// CPUWindow is the shortest span CPUPercent is asked to measure, history
// permitting. The kernel brings a running thread's CPU time up to date only
// at scheduler ticks (a few milliseconds apart), so over a short span the
// reading is off by up to a tick per busy thread: 10 ms on two busy cores
// could read well over 100%. Half a second keeps that error under 1% and
// is still one interval at the default interval of a second.
const CPUWindow = 500 * time.Millisecond

// CPUPercent is the CPU the process used between two readings, as a share
// of all the machine's cores: 100 means every core was busy. Tick
// granularity can push a Reading over a short span past 100, so it is
// capped there.
func CPUPercent(prev, cur ProcessReading) float64 {
	wall := cur.At.Sub(prev.At)
	if wall <= 0 || cur.CPU < prev.CPU {
		return 0
	}
	return min(100, 100*float64(cur.CPU-prev.CPU)/(float64(wall)*float64(runtime.NumCPU())))
}

// LongestGCPause returns the longest GC pause between two readings, in
// seconds: the upper bound of the highest histogram bucket that gained a
// pause (its lower bound for the last, unbounded bucket), or 0 when no
// pause happened.
func LongestGCPause(prev, cur ProcessReading) float64 {
	if len(prev.GCPauseCounts) != len(cur.GCPauseCounts) {
		return 0
	}
	for i := len(cur.GCPauseCounts) - 1; i >= 0; i-- {
		if cur.GCPauseCounts[i] > prev.GCPauseCounts[i] {
			if hi := cur.GCPauseBounds[i+1]; hi < 1e300 {
				return hi
			}
			return cur.GCPauseBounds[i]
		}
	}
	return 0
}
