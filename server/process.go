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
	at         time.Time     // when cpu was read
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
	r := processReading{cpu: processCPUTime(), at: time.Now()}
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

// cpuWindow is the shortest span cpuPercent is asked to measure, history
// permitting. The kernel brings a running thread's CPU time up to date only
// at scheduler ticks (a few milliseconds apart), so over a short span the
// reading is off by up to a tick per busy thread: 10 ms on two busy cores
// could read well over 100%. Half a second keeps that error under 1% and
// is still one interval at the default interval of a second.
const cpuWindow = 500 * time.Millisecond

// cpuPercent is the CPU the process used between two readings, as a share
// of all the machine's cores: 100 means every core was busy. Tick
// granularity can push a reading over a short span past 100, so it is
// capped there.
func cpuPercent(prev, cur processReading) float64 {
	wall := cur.at.Sub(prev.at)
	if wall <= 0 || cur.cpu < prev.cpu {
		return 0
	}
	return min(100, 100*float64(cur.cpu-prev.cpu)/(float64(wall)*float64(runtime.NumCPU())))
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
