package app

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

func TestSeriesKeepsTheNewestInOrder(t *testing.T) {
	t.Parallel()
	s := newSeries(3)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		assert.True(t, s.add(Point{t0.Add(time.Duration(i) * time.Second), float64(i)}))
	}
	assert.False(t, s.add(Point{t0.Add(4 * time.Second), 99}), "a snapshot seen twice")
	assert.False(t, s.add(Point{t0, 99}), "an older snapshot")
	require.Equal(t, 3, s.len())
	for i := range 3 {
		assert.Equal(t, float64(i+2), s.at(i).V)
	}
}

func TestNiceScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		max, top, step float64
	}{
		{0, 1, 0.2},
		{-3, 1, 0.2},
		{1, 1, 0.2},
		{3, 3, 1},
		{4.2, 5, 1},
		{7, 8, 2},
		{10, 10, 2},
		{37, 40, 10},
		{0.013, 0.015, 0.005},
		{0.009, 0.01, 0.002},
		{1234, 1500, 500},
	}
	for _, tt := range tests {
		top, step := niceScale(tt.max)
		assert.InDelta(t, tt.top, top, 1e-9, "top for %v", tt.max)
		assert.InDelta(t, tt.step, step, 1e-9, "step for %v", tt.max)
		assert.LessOrEqual(t, top/step, 5.0001, "at most five steps for %v", tt.max)
	}
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unit Unit
		v    float64
		want string
	}{
		{UnitCount, 0, "0"},
		{UnitCount, 12, "12"},
		{UnitCount, 1234, "1234"},
		{UnitPerSec, 3.5, "3.5 /s"},
		{UnitPerSec, 0.0123, "0.0123 /s"},
		{UnitPerSec, 99.96, "100 /s"},
		{UnitBytesPerSec, 512, "512 B/s"},
		{UnitBytesPerSec, 1536, "1.5 KiB/s"},
		{UnitBytesPerSec, 3 << 20, "3 MiB/s"},
		{UnitMillis, 0.35, "0.35 ms"},
		{UnitMillis, 0.00012, "0.0001 ms"},
		{UnitPercent, 12.34, "12.3 %"},
		{UnitMiB, 4.25, "4.25 MiB"},
		{UnitSeconds, 42, "42s"},
		{UnitSeconds, 125, "2m 05s"},
		{UnitSeconds, 3723, "1h 02m 03s"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatValue(tt.unit, tt.v), "%v", tt.v)
	}
}

func TestPlotPlacesPointsByTime(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 28, 10, 1, 0, 0, time.UTC)
	s := newSeries(100)
	// Points 1 s apart that begin before the window, then a 20 s gap (the
	// tab's connection dropped), then more.
	for i := 65; i >= 40; i-- {
		s.add(Point{end.Add(-time.Duration(i) * time.Second), 2})
	}
	for i := 20; i >= 0; i-- {
		s.add(Point{end.Add(-time.Duration(i) * time.Second), 4})
	}
	spec := ChartSpec{ID: "c", Title: "c", Unit: UnitCount, Lines: []LineSpec{{"k", "k", "#000"}, {"missing", "m", "#111"}}}
	p := plot(spec, map[string]*series{"k": s}, end, time.Minute)

	require.Len(t, p.Lines, 2)
	segs := p.Lines[0].Segments
	require.Len(t, segs, 2, "the gap breaks the line")
	// The line enters at the left edge, from the last point before the
	// window.
	assert.InDelta(t, p.Left, segs[0][0].X, 1e-9)
	assert.Len(t, segs[0], 1+21)
	assert.Len(t, segs[1], 21)
	// x is proportional to time: -30 s is the middle, the newest point
	// the right edge.
	last := segs[1][len(segs[1])-1]
	assert.InDelta(t, p.Right, last.X, 1e-9)
	assert.InDelta(t, p.Left+(p.Right-p.Left)*(60-40)/60.0, segs[0][len(segs[0])-1].X, 1e-9)
	// y: the scale tops at 4, so the newest value is at the top.
	assert.InDelta(t, p.Top, last.Y, 1e-9)
	assert.Equal(t, "4", p.Lines[0].Current)
	assert.Equal(t, "–", p.Lines[1].Current, "no data")
	assert.Empty(t, p.Lines[1].Segments)
	assert.Equal(t, 43, p.Points)

	assert.Equal(t, "now", p.XTicks[0].Label)
	assert.InDelta(t, p.Right, p.XTicks[0].Pos, 1e-9)
	assert.Equal(t, "-60s", p.XTicks[len(p.XTicks)-1].Label)
	assert.Equal(t, "0", p.YTicks[0].Label)
	assert.Equal(t, "4", p.YTicks[len(p.YTicks)-1].Label)
}

// A line enters the window at the left edge, where it crosses it; a line
// that a gap separates from the window does not enter at all.
func TestPlotLineEntersAtTheLeftEdge(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 28, 10, 1, 0, 0, time.UTC)
	at := func(ago int) time.Time { return end.Add(-time.Duration(ago) * time.Second) }
	joined, cut := newSeries(10), newSeries(10)
	// 0 at 61 s ago and 4 at 59 s ago: 2 where they cross the edge, 60 s ago.
	joined.add(Point{at(61), 0})
	joined.add(Point{at(59), 4})
	joined.add(Point{at(58), 4})
	// 30 s between the point before the window and the next: a gap.
	cut.add(Point{at(80), 4})
	cut.add(Point{at(50), 4})
	cut.add(Point{at(49), 4})
	spec := ChartSpec{ID: "c", Unit: UnitCount, Lines: []LineSpec{{"joined", "j", "#000"}, {"cut", "c", "#111"}}}
	p := plot(spec, map[string]*series{"joined": joined, "cut": cut}, end, time.Minute)

	require.Len(t, p.Lines[0].Segments, 1)
	entry := p.Lines[0].Segments[0][0]
	assert.InDelta(t, p.Left, entry.X, 1e-9)
	assert.InDelta(t, (p.Top+p.Bottom)/2, entry.Y, 1e-9, "half way from 0 to 4, on a scale to 4")
	require.Len(t, p.Lines[1].Segments, 1)
	assert.Len(t, p.Lines[1].Segments[0], 2, "the point before the gap is left out")
	for _, st := range p.Strokes() {
		for _, pt := range st.Points {
			assert.GreaterOrEqual(t, pt.X, p.Left-1e-9, "nothing is drawn left of the plot")
		}
	}
}

func TestPlotFurniture(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 28, 10, 1, 0, 0, time.UTC)
	s := newSeries(10)
	s.add(Point{end.Add(-time.Second), 3})
	s.add(Point{end, 3})
	spec := ChartSpec{ID: "c", Unit: UnitCount, Lines: []LineSpec{{"k", "k", "#123456"}}}
	p := plot(spec, map[string]*series{"k": s}, end, time.Minute)

	strokes := p.Strokes()
	require.Len(t, strokes, len(p.YTicks)+len(p.XTicks)+1)
	grid := strokes[0]
	assert.Equal(t, []XY{{p.Left, p.YTicks[0].Pos}, {p.Right, p.YTicks[0].Pos}}, grid.Points, "a grid line spans the plot")
	mark := strokes[len(p.YTicks)]
	assert.Equal(t, []float64{p.XTicks[0].Pos, p.Bottom, p.XTicks[0].Pos, p.Bottom + 3}, mark.Coords())
	data := strokes[len(strokes)-1]
	assert.Equal(t, "#123456", data.Color, "the line is drawn last, over the grid")
	assert.Len(t, data.Points, 2)

	labels := p.Labels()
	require.Len(t, labels, len(p.YTicks)+len(p.XTicks))
	assert.Equal(t, Label{XY{p.Left - 6, p.YTicks[0].Pos}, "0", "right", "middle", mutedColor}, labels[0])
	now, ago := labels[len(p.YTicks)], labels[len(labels)-1]
	assert.Equal(t, "now", now.Text)
	assert.Equal(t, "right", now.Align, "the label at the right edge stays inside the chart")
	assert.Equal(t, "-60s", ago.Text)
	assert.Equal(t, "center", ago.Align)
	assert.Equal(t, "top", ago.Baseline)
}

// A tab in the background runs late. When it wakes, the snapshots that
// were on their way arrive in one burst with the newest one, and those the
// server skipped meanwhile (latest value wins) leave a gap in the
// timestamps. The chart places each point by its server timestamp, not by
// when it arrived or by its index: the burst is spaced like the steady
// snapshots before it, and the gap breaks the line.
func TestPlotAfterTheTabWasInTheBackground(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	sec := func(i int) time.Duration { return time.Duration(i) * time.Second }
	rec := &dashRecorder{}
	d := NewDashboard(NewLoop(), rec, "ws://127.0.0.1:1/ws/dashboard")
	var clock time.Time
	d.now = func() time.Time { return clock }
	arrive := func(at time.Time, stamp int, v float64) {
		clock = at
		b, err := json.Marshal(shared.DashboardData{Timestamp: t0.Add(sec(stamp)), Metrics: map[string]float64{shared.MetricGoroutines: v}})
		require.NoError(t, err)
		d.message(b)
	}
	// In the foreground: a snapshot a second, each on time.
	for i := 0; i <= 20; i++ {
		arrive(t0.Add(sec(i)), i, 10)
	}
	// In the background from 20 s to 50 s: at 50 s, 21 and 22 arrive at
	// once with 50; the server skipped 23 to 49.
	for _, i := range []int{21, 22, 50} {
		arrive(t0.Add(sec(50)), i, 20)
	}
	// In the foreground again.
	for i := 51; i <= 59; i++ {
		arrive(t0.Add(sec(i)), i, 10)
	}

	p := rec.plot("goroutines")
	require.Len(t, p.Lines, 1)
	segs := p.Lines[0].Segments
	require.Len(t, segs, 2, "the skipped snapshots leave a gap in the line")
	// The window ends at the newest snapshot, 59 s, and spans a minute.
	x := func(i int) float64 { return p.Left + (p.Right-p.Left)*float64(i+1)/60 }
	for s, want := range [][2]int{{0, 22}, {50, 59}} {
		require.Len(t, segs[s], want[1]-want[0]+1, "segment %d", s)
		for j, pt := range segs[s] {
			assert.InDelta(t, x(want[0]+j), pt.X, 1e-9, "the point stamped %d s", want[0]+j)
		}
	}
	// The burst's values are where their timestamps say: 21 s one second
	// right of 20 s, at the top of the scale (20), above 20 s's 10.
	assert.InDelta(t, p.Top, segs[0][21].Y, 1e-9)
	assert.InDelta(t, (p.Top+p.Bottom)/2, segs[0][20].Y, 1e-9)
	assert.InDelta(t, p.Top, segs[1][0].Y, 1e-9)
}
