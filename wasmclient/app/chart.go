package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one value of a series at the server's time.
type Point struct {
	T time.Time
	V float64
}

// series is a ring buffer of the newest points of one metric, oldest
// first, in strictly increasing time. Its size is fixed, so a long-running
// page uses the same memory after an hour as after a minute.
type series struct {
	buf   []Point
	start int // index of the oldest point
	n     int
}

func newSeries(capacity int) *series { return &series{buf: make([]Point, capacity)} }

// add appends p unless it is not newer than the newest point (a snapshot
// seen twice, as when a reconnect's history overlaps what was drawn).
// When full, the oldest point goes.
func (s *series) add(p Point) bool {
	if s.n > 0 && !p.T.After(s.at(s.n-1).T) {
		return false
	}
	if s.n < len(s.buf) {
		s.buf[(s.start+s.n)%len(s.buf)] = p
		s.n++
		return true
	}
	s.buf[s.start] = p
	s.start = (s.start + 1) % len(s.buf)
	return true
}

func (s *series) len() int { return s.n }

// at returns the i-th oldest point.
func (s *series) at(i int) Point { return s.buf[(s.start+i)%len(s.buf)] }

// Unit says how a value is shown.
type Unit int

const (
	UnitCount       Unit = iota // a plain number: connections, goroutines
	UnitPerSec                  // messages or requests per second
	UnitBytesPerSec             // bytes per second, shown in B/s, KiB/s, MiB/s
	UnitMillis                  // milliseconds
	UnitPercent                 // percent
	UnitMiB                     // mebibytes
	UnitSeconds                 // a duration in seconds, shown as 1h 02m 03s
)

// suffix is the unit as written after a number.
func (u Unit) suffix() string {
	switch u {
	case UnitPerSec:
		return "/s"
	case UnitBytesPerSec:
		return "B/s"
	case UnitMillis:
		return "ms"
	case UnitPercent:
		return "%"
	case UnitMiB:
		return "MiB"
	}
	return ""
}

// FormatValue writes v with its unit, for a person: "12", "3.5 /s",
// "1.2 KiB/s", "0.35 ms", "12.5 %", "4.2 MiB", "1h 02m 03s".
func FormatValue(u Unit, v float64) string {
	switch u {
	case UnitBytesPerSec:
		for _, p := range []struct {
			size float64
			name string
		}{{1 << 30, "GiB/s"}, {1 << 20, "MiB/s"}, {1 << 10, "KiB/s"}} {
			if math.Abs(v) >= p.size {
				return formatNumber(v/p.size) + " " + p.name
			}
		}
		return formatNumber(v) + " B/s"
	case UnitSeconds:
		d := time.Duration(v) * time.Second
		h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
		switch {
		case h > 0:
			return fmt.Sprintf("%dh %02dm %02ds", h, m, s)
		case m > 0:
			return fmt.Sprintf("%dm %02ds", m, s)
		}
		return fmt.Sprintf("%ds", s)
	case UnitCount:
		return formatNumber(v)
	}
	return formatNumber(v) + " " + u.suffix()
}

// formatNumber writes v with about three significant digits and no
// exponent: 0, 0.0123, 0.35, 3.5, 35.2, 352, 3521.
func formatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 1:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	}
	// Three significant digits below 1, at most 4 decimals.
	decimals := min(4, 2-int(math.Floor(math.Log10(a))))
	return trimZeros(strconv.FormatFloat(v, 'f', decimals, 64))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// niceScale returns the top of a y axis that shows values up to max, and
// the step between its ticks: step is 1, 2 or 5 times a power of ten, and
// there are at most five steps. max <= 0 gives a scale of 0 to 1.
func niceScale(max float64) (top, step float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 0.2
	}
	raw := max / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * pow
		if step >= raw {
			break
		}
	}
	top = math.Ceil(max/step-1e-9) * step
	return top, step
}

// LineSpec is one line of a chart: the snapshot key it plots.
type LineSpec struct {
	Key, Label, Color string
}

// ChartSpec describes one chart.
type ChartSpec struct {
	ID, Title string
	Unit      Unit
	Lines     []LineSpec
}

// XY is a point on a canvas, in CSS pixels from the top left.
type XY struct{ X, Y float64 }

// Tick is an axis label and where it goes (an x or a y, in pixels).
type Tick struct {
	Pos   float64
	Label string
}

// PlotLine is one line as drawn: its segments (a gap in the data, such
// as a reconnect, breaks the line) and its newest value, formatted.
type PlotLine struct {
	Label, Color string
	Segments     [][]XY
	Current      string
}

// Plot is everything needed to draw one chart, already laid out and
// inside its area: the view only draws its Strokes and Labels.
type Plot struct {
	ID, Title      string
	Width, Height  float64
	Left, Top      float64 // the plotting area inside the axes
	Right, Bottom  float64
	Lines          []PlotLine
	XTicks, YTicks []Tick
	Points         int // points drawn, over all lines
}

// Chart sizes in CSS pixels, and the margins for the axis labels.
const (
	ChartWidth   = 440
	ChartHeight  = 150
	marginLeft   = 44
	marginRight  = 8
	marginTop    = 8
	marginBottom = 18
)

// Stroke is a line through Points, Width pixels wide; a single point is a
// dot.
type Stroke struct {
	Points []XY
	Color  string
	Width  float64
}

// Coords returns the points as x0, y0, x1, y1, ….
func (s Stroke) Coords() []float64 {
	xy := make([]float64, 0, 2*len(s.Points))
	for _, pt := range s.Points {
		xy = append(xy, pt.X, pt.Y)
	}
	return xy
}

// Label is a text on a chart. Align says which of its sides is at At
// (left, center or right), Baseline which of its edges (top, middle or
// bottom), as a canvas takes them.
type Label struct {
	At              XY
	Text            string
	Align, Baseline string
	Color           string
}

// Colours of the chart furniture, from style.css's palette.
const (
	gridColor  = "#e2e2e0"
	mutedColor = "#6b6b70"
)

// Strokes returns what to draw of the chart, in order: a grid line at
// each y tick, a mark under each x tick, then the lines' segments.
func (p Plot) Strokes() []Stroke {
	var out []Stroke
	for _, t := range p.YTicks {
		out = append(out, Stroke{[]XY{{p.Left, t.Pos}, {p.Right, t.Pos}}, gridColor, 1})
	}
	for _, t := range p.XTicks {
		out = append(out, Stroke{[]XY{{t.Pos, p.Bottom}, {t.Pos, p.Bottom + 3}}, mutedColor, 1})
	}
	for _, l := range p.Lines {
		for _, seg := range l.Segments {
			out = append(out, Stroke{seg, l.Color, 1.75})
		}
	}
	return out
}

// Labels returns the ticks' labels: left of the y axis, and under the x
// axis, the rightmost one kept inside the chart.
func (p Plot) Labels() []Label {
	var out []Label
	for _, t := range p.YTicks {
		out = append(out, Label{XY{p.Left - 6, t.Pos}, t.Label, "right", "middle", mutedColor})
	}
	for _, t := range p.XTicks {
		align := "center"
		if t.Pos >= p.Right-1 {
			align = "right"
		}
		out = append(out, Label{XY{t.Pos, p.Bottom + 5}, t.Label, align, "top", mutedColor})
	}
	return out
}

// plot lays out one chart for the time window that ends at end. Points
// outside the window are left out, except that a line joined to the last
// point before the window enters at the left edge, where it crosses it,
// instead of starting in mid-air.
func plot(spec ChartSpec, data map[string]*series, end time.Time, window time.Duration) Plot {
	p := Plot{
		ID: spec.ID, Title: spec.Title, Width: ChartWidth, Height: ChartHeight,
		Left: marginLeft, Top: marginTop, Right: ChartWidth - marginRight, Bottom: ChartHeight - marginBottom,
	}
	start := end.Add(-window)
	// The y scale covers every visible value of every line.
	maxV := 0.0
	for _, l := range spec.Lines {
		s := data[l.Key]
		if s == nil {
			continue
		}
		for i := range s.len() {
			if pt := s.at(i); !pt.T.Before(start) && !pt.T.After(end) {
				maxV = max(maxV, pt.V)
			}
		}
	}
	top, step := niceScale(maxV)
	x := func(t time.Time) float64 {
		return p.Left + (p.Right-p.Left)*float64(t.Sub(start))/float64(window)
	}
	y := func(v float64) float64 {
		return p.Bottom - (p.Bottom-p.Top)*min(max(v, 0), top)/top
	}
	for v := 0.0; v <= top+step/2; v += step {
		p.YTicks = append(p.YTicks, Tick{y(v), formatNumber(v)})
	}
	const every = 10 * time.Second
	for ago := time.Duration(0); ago <= window; ago += every {
		label := "now"
		if ago > 0 {
			label = fmt.Sprintf("-%ds", int(ago.Seconds()))
		}
		p.XTicks = append(p.XTicks, Tick{x(end.Add(-ago)), label})
	}
	for _, l := range spec.Lines {
		line := PlotLine{Label: l.Label, Color: l.Color, Current: "–"}
		s := data[l.Key]
		if s != nil && s.len() > 0 {
			line.Current = FormatValue(spec.Unit, s.at(s.len()-1).V)
			gap := gapThreshold(s)
			var seg []XY
			var prev Point
			entering := false // seg holds only the last point before the window
			for i := range s.len() {
				pt := s.at(i)
				if pt.T.After(end) {
					break
				}
				xy := XY{x(pt.T), y(pt.V)}
				if pt.T.Before(start) {
					seg, prev, entering = []XY{xy}, pt, true
					continue
				}
				joined := len(seg) == 0 || pt.T.Sub(prev.T) <= gap
				switch {
				case entering && joined:
					seg[0] = crossing(seg[0], xy, p.Left)
				case entering:
					seg = nil // a gap follows it: none of that line is in the window
				case !joined:
					line.Segments = append(line.Segments, seg)
					seg = nil
				}
				seg, prev, entering = append(seg, xy), pt, false
			}
			if len(seg) > 0 && !entering {
				line.Segments = append(line.Segments, seg)
			}
			for _, sg := range line.Segments {
				p.Points += len(sg)
			}
		}
		p.Lines = append(p.Lines, line)
	}
	return p
}

// crossing returns the point where the line from a to b crosses x.
func crossing(a, b XY, x float64) XY {
	return XY{x, a.Y + (b.Y-a.Y)*(x-a.X)/(b.X-a.X)}
}

// gapThreshold is how far apart two points may be and still be joined by
// a line: three times the usual spacing of the series (its smallest
// spacing among the newest points), and at least 1.5 s. Wider gaps are
// missing data: the page was disconnected.
func gapThreshold(s *series) time.Duration {
	spacing := time.Duration(0)
	for i := max(1, s.len()-10); i < s.len(); i++ {
		d := s.at(i).T.Sub(s.at(i - 1).T)
		if spacing == 0 || d < spacing {
			spacing = d
		}
	}
	return max(3*spacing, 1500*time.Millisecond)
}
