package main

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"time"
)

// processReader reads the process figures the dashboard shows. The
// runtime/metrics package is the modern source for them: reading it does
// not stop the world, unlike runtime.ReadMemStats. Each sampler has its own
// reader, because the samples are reused between reads.
type processReader struct {
	samples []rtmetrics.Sample
}

// The runtime/metrics names read, in the order of processReader.samples.
const (
	rtHeapObjects = "/memory/classes/heap/objects:bytes"
	rtGoroutines  = "/sched/goroutines:goroutines"
	// Stop-the-world pauses for GC; it replaced /gc/pauses:seconds,
	// which Go 1.22 deprecated and which reports the same data.
	rtGCPauses = "/sched/pauses/total/gc:seconds"
)

// processReading is the process at one moment.
type processReading struct {
	cpu        time.Duration // CPU time used since start, user and system
	heapBytes  uint64        // bytes of live and not yet swept heap objects
	goroutines uint64
	// gcPauseCounts and gcPauseBounds are the cumulative pause histogram:
	// gcPauseCounts[i] pauses were in [gcPauseBounds[i], gcPauseBounds[i+1]).
	gcPauseCounts []uint64
	gcPauseBounds []float64
}

func newProcessReader() *processReader {
	return &processReader{samples: []rtmetrics.Sample{
		{Name: rtHeapObjects}, {Name: rtGoroutines}, {Name: rtGCPauses},
	}}
}

func (p *processReader) read() processReading {
	rtmetrics.Read(p.samples)
	r := processReading{cpu: processCPUTime()}
	if v := p.samples[0].Value; v.Kind() == rtmetrics.KindUint64 {
		r.heapBytes = v.Uint64()
	}
	if v := p.samples[1].Value; v.Kind() == rtmetrics.KindUint64 {
		r.goroutines = v.Uint64()
	}
	if v := p.samples[2].Value; v.Kind() == rtmetrics.KindFloat64Histogram {
		h := v.Float64Histogram()
		// Read reuses the histogram's memory on the next call: copy it.
		r.gcPauseCounts = slices.Clone(h.Counts)
		r.gcPauseBounds = h.Buckets // the bounds never change
	}
	return r
}

// cpuPercent is the CPU the process used between two readings, as a share
// of all the machine's cores: 100 means every core was busy.
func cpuPercent(prev, cur processReading, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * float64(cur.cpu-prev.cpu) / (float64(wall) * float64(runtime.NumCPU()))
}

// longestGCPause returns the longest GC pause between two readings, in
// seconds: the upper bound of the highest histogram bucket that gained a
// pause (its lower bound for the last, unbounded bucket), or 0 when no
// pause happened.
func longestGCPause(prev, cur processReading) float64 {
	if len(prev.gcPauseCounts) != len(cur.gcPauseCounts) {
		return 0
	}
	for i := len(cur.gcPauseCounts) - 1; i >= 0; i-- {
		if cur.gcPauseCounts[i] > prev.gcPauseCounts[i] {
			if hi := cur.gcPauseBounds[i+1]; hi < 1e300 {
				return hi
			}
			return cur.gcPauseBounds[i]
		}
	}
	return 0
}
