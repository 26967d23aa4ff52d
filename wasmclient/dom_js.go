package main

import (
	"fmt"
	"syscall/js"
	"time"

	"wsplay/wasmclient/app"
)

// page is a thin typed layer over the DOM. Untrusted text goes in with
// textContent only, never innerHTML.
type page struct {
	doc js.Value
}

func newPage() *page { return &page{doc: js.Global().Get("document")} }

type event struct{ v js.Value }

func (e event) preventDefault() { e.v.Call("preventDefault") }

func (p *page) byID(id string) js.Value {
	el := p.doc.Call("getElementById", id)
	if el.IsNull() {
		panic(fmt.Sprintf("page has no element #%s", id))
	}
	return el
}

func (p *page) location() string { return js.Global().Get("location").Get("href").String() }

func (p *page) setText(id, text string) { p.byID(id).Set("textContent", text) }

func (p *page) value(id string) string { return p.byID(id).Get("value").String() }

// on calls fn for each of the element's events of that name. fn runs inside
// a JavaScript callback, so it must not block: it reads what it needs and
// posts the work to the loop. The listener lives as long as the page.
func (p *page) on(id, name string, fn func(event)) {
	f := js.FuncOf(func(this js.Value, args []js.Value) any {
		fn(event{args[0]})
		return nil
	})
	p.byID(id).Call("addEventListener", name, f)
}

// running tells the page the Go client has started.
func (p *page) running() {
	el := p.byID("runtime")
	el.Set("textContent", "Go client running (GOOS=js GOARCH=wasm).")
	el.Get("dataset").Set("state", "running")
}

func (p *page) fail(msg string) {
	el := p.byID("runtime")
	el.Set("textContent", msg)
	el.Get("dataset").Set("state", "error")
}

// element makes a new element with the given text.
func (p *page) element(tag, class, text string) js.Value {
	el := p.doc.Call("createElement", tag)
	if class != "" {
		el.Set("className", class)
	}
	el.Set("textContent", text)
	return el
}

// maxLogRows bounds each frame log; the oldest rows go first.
const maxLogRows = 200

// echoView shows the echo panel.
type echoView struct{ p *page }

func (v echoView) EchoState(s app.ConnState) {
	el := v.p.byID("echo-state")
	el.Set("textContent", s.String())
	el.Get("dataset").Set("state", s.String())
	btn := v.p.byID("echo-connect")
	btn.Set("disabled", s == app.Closing)
	if s == app.Disconnected {
		btn.Set("textContent", "Connect")
	} else {
		btn.Set("textContent", "Disconnect")
	}
	v.p.byID("echo-send").Set("disabled", s != app.Connected)
	if s == app.Connected {
		// Milliseconds from navigation start to the first connection, for
		// the browser test that measures it.
		body := v.p.doc.Get("body").Get("dataset")
		if body.Get("echoConnectedMs").IsUndefined() {
			body.Set("echoConnectedMs", js.Global().Get("performance").Call("now"))
		}
	}
}

func (v echoView) EchoLog(e app.LogEntry) {
	row := v.p.doc.Call("createElement", "tr")
	ds := row.Get("dataset")
	ds.Set("dir", string(e.Dir))
	ds.Set("kind", e.Kind)
	arrow := map[app.Direction]string{app.Sent: "→", app.Received: "←", app.Event: "•"}[e.Dir]
	size, rtt := "", ""
	if e.Dir != app.Event {
		size = fmt.Sprintf("%d B", e.Size)
	}
	if e.RTT > 0 {
		rtt = e.RTT.Round(10 * time.Microsecond).String()
	}
	text := e.Text
	if e.Close != nil {
		text = fmt.Sprintf("%d %s", e.Close.Code, e.Close.Meaning)
		if e.Close.Reason != "" {
			text += fmt.Sprintf(" (reason: %q)", e.Close.Reason)
		}
		if e.Close.Reconnect {
			text += " · a client should reconnect with backoff"
		}
	}
	for _, cell := range []struct{ class, text string }{
		{"time", e.Time.Format("15:04:05.000")}, {"dir", arrow}, {"kind", e.Kind},
		{"size", size}, {"rtt", rtt}, {"data", text},
	} {
		row.Call("appendChild", v.p.element("td", cell.class, cell.text))
	}
	body := v.p.byID("echo-log")
	body.Call("prepend", row)
	for body.Get("children").Get("length").Int() > maxLogRows {
		body.Call("removeChild", body.Get("lastElementChild"))
	}
}

func (v echoView) EchoError(msg string) { v.p.setText("echo-error", msg) }

func (v echoView) EchoSent() { v.p.byID("echo-input").Set("value", "") }

// canvas draws on a <canvas> element in CSS pixels, sharp on high-DPI
// screens.
type canvas struct {
	el, ctx js.Value
	w, h    float64
}

func (p *page) newCanvas(w, h float64) canvas {
	el := p.doc.Call("createElement", "canvas")
	dpr := 1.0
	if v := js.Global().Get("devicePixelRatio"); v.Type() == js.TypeNumber && v.Float() > 0 {
		dpr = v.Float()
	}
	el.Set("width", int(w*dpr))
	el.Set("height", int(h*dpr))
	ctx := el.Call("getContext", "2d")
	ctx.Call("setTransform", dpr, 0, 0, dpr, 0, 0)
	return canvas{el: el, ctx: ctx, w: w, h: h}
}

func (c canvas) clear() { c.ctx.Call("clearRect", 0, 0, c.w, c.h) }

// segment draws a line between x0,y0 and x1,y1.
func (c canvas) segment(x0, y0, x1, y1 float64, color string) {
	c.ctx.Set("strokeStyle", color)
	c.ctx.Set("lineWidth", 1)
	c.ctx.Call("beginPath")
	c.ctx.Call("moveTo", x0, y0)
	c.ctx.Call("lineTo", x1, y1)
	c.ctx.Call("stroke")
}

// polyline draws a line through pts; a single point is drawn as a dot.
func (c canvas) polyline(pts []app.XY, color string) {
	if len(pts) == 0 {
		return
	}
	c.ctx.Set("strokeStyle", color)
	c.ctx.Set("fillStyle", color)
	c.ctx.Set("lineWidth", 1.75)
	c.ctx.Set("lineJoin", "round")
	c.ctx.Call("beginPath")
	if len(pts) == 1 {
		c.ctx.Call("arc", pts[0].X, pts[0].Y, 1.75, 0, 6.2832)
		c.ctx.Call("fill")
		return
	}
	c.ctx.Call("moveTo", pts[0].X, pts[0].Y)
	for _, pt := range pts[1:] {
		c.ctx.Call("lineTo", pt.X, pt.Y)
	}
	c.ctx.Call("stroke")
}

// text writes s at x,y; align is left, center or right, baseline top,
// middle or bottom.
func (c canvas) text(x, y float64, s, align, baseline, color string) {
	c.ctx.Set("font", "11px system-ui, sans-serif")
	c.ctx.Set("fillStyle", color)
	c.ctx.Set("textAlign", align)
	c.ctx.Set("textBaseline", baseline)
	c.ctx.Call("fillText", s, x, y)
}

// clip limits drawing to a rectangle until restore.
func (c canvas) clip(x, y, w, h float64) {
	c.ctx.Call("save")
	c.ctx.Call("beginPath")
	c.ctx.Call("rect", x, y, w, h)
	c.ctx.Call("clip")
}

func (c canvas) restore() { c.ctx.Call("restore") }

// Colours of the chart furniture, from style.css's palette.
const (
	gridColor  = "#e2e2e0"
	mutedColor = "#6b6b70"
)

// dashboardView shows the dashboard panel. Elements are made on first use
// and then only updated.
type dashboardView struct {
	p      *page
	values map[string]js.Value // the value element of each current value
	charts map[string]*chartView
}

// chartView is one chart's canvas and legend.
type chartView struct {
	c      canvas
	legend []js.Value // one value element per line
	shown  []string   // what legend shows, to touch the DOM only on change
}

func newDashboardView(p *page) *dashboardView {
	return &dashboardView{p: p, values: map[string]js.Value{}, charts: map[string]*chartView{}}
}

func (v *dashboardView) DashboardState(s app.ConnState, detail string, active bool) {
	el := v.p.byID("dash-state")
	el.Set("textContent", s.String())
	el.Get("dataset").Set("state", s.String())
	v.p.setText("dash-detail", detail)
	btn := v.p.byID("dash-connect")
	btn.Set("disabled", false)
	if active {
		btn.Set("textContent", "Disconnect")
	} else {
		btn.Set("textContent", "Connect")
	}
}

func (v *dashboardView) DashboardValues(values []app.Value) {
	for _, val := range values {
		el, ok := v.values[val.Key]
		if !ok {
			box := v.p.element("div", "metric", "")
			box.Get("dataset").Set("key", val.Key)
			box.Call("appendChild", v.p.element("span", "label", val.Label))
			el = v.p.element("span", "value", "")
			box.Call("appendChild", el)
			v.p.byID("dash-values").Call("appendChild", box)
			v.values[val.Key] = el
		}
		el.Set("textContent", val.Text)
	}
}

func (v *dashboardView) DashboardPlots(plots []app.Plot) {
	for _, p := range plots {
		v.chart(p).draw(p)
	}
}

// chart returns the view of a chart, making its figure on first use.
func (v *dashboardView) chart(p app.Plot) *chartView {
	if cv, ok := v.charts[p.ID]; ok {
		return cv
	}
	fig := v.p.element("figure", "chart", "")
	fig.Get("dataset").Set("chart", p.ID)
	fig.Call("appendChild", v.p.element("figcaption", "", p.Title))
	cv := &chartView{c: v.p.newCanvas(p.Width, p.Height)}
	fig.Call("appendChild", cv.c.el)
	legend := v.p.element("ul", "legend", "")
	for _, l := range p.Lines {
		item := v.p.element("li", "", "")
		swatch := v.p.element("span", "swatch", "")
		swatch.Get("style").Set("background", l.Color) // CSSOM, allowed by the CSP
		item.Call("appendChild", swatch)
		item.Call("appendChild", v.p.element("span", "", l.Label+" "))
		val := v.p.element("span", "value", "")
		item.Call("appendChild", val)
		legend.Call("appendChild", item)
		cv.legend = append(cv.legend, val)
		cv.shown = append(cv.shown, "")
	}
	fig.Call("appendChild", legend)
	v.p.byID("dash-charts").Call("appendChild", fig)
	v.charts[p.ID] = cv
	return cv
}

func (cv *chartView) draw(p app.Plot) {
	c := cv.c
	c.clear()
	for _, t := range p.YTicks {
		c.segment(p.Left, t.Pos, p.Right, t.Pos, gridColor)
		c.text(p.Left-6, t.Pos, t.Label, "right", "middle", mutedColor)
	}
	for _, t := range p.XTicks {
		c.segment(t.Pos, p.Bottom, t.Pos, p.Bottom+3, mutedColor)
		align := "center"
		if t.Pos >= p.Right-1 {
			align = "right"
		}
		c.text(t.Pos, p.Bottom+5, t.Label, align, "top", mutedColor)
	}
	c.clip(p.Left, 0, p.Right-p.Left, p.Height)
	for _, l := range p.Lines {
		for _, seg := range l.Segments {
			c.polyline(seg, l.Color)
		}
	}
	c.restore()
	c.el.Get("dataset").Set("points", p.Points)
	for i, l := range p.Lines {
		if i < len(cv.legend) && cv.shown[i] != l.Current {
			cv.legend[i].Set("textContent", l.Current)
			cv.shown[i] = l.Current
		}
	}
}

// fillSelect replaces a select element's options with the given values
// and labels.
func (p *page) fillSelect(id string, options [][2]string) {
	sel := p.byID(id)
	sel.Set("textContent", "")
	for _, o := range options {
		opt := p.element("option", "", o[1])
		opt.Set("value", o[0])
		sel.Call("appendChild", opt)
	}
}
