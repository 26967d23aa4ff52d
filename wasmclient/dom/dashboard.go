package dom

import (
	"strconv"
	"strings"

	"wsplay/wasmclient/app"
)

// Dashboard returns the client of the page's dashboard panel, for the
// socket at url, with the panel's controls wired to it.
func Dashboard(page Page, loop *app.Loop, url string) *app.Dashboard {
	v := newDashboardView(page)
	dash := app.NewDashboard(loop, v, url)
	dash.Inspect = inspector(page, page.ByID("dashboard"), "the dashboard", loop, dash.Raw, &listeners{})
	page.ByID("dash-url").SetText(url)
	interval := page.ByID("dash-interval")
	for _, c := range app.IntervalChoices() {
		o := page.Clone("option")
		o.SetValue(c.Value)
		o.SetText(c.Label)
		interval.Insert(o, nil)
	}
	v.toggle.On("click", func(Event) { loop.Post(dash.Toggle) })
	interval.On("change", func(Event) {
		value := interval.Value()
		loop.Post(func() { dash.ChooseInterval(value) })
	})
	return dash
}

// dashboardView shows the dashboard panel. A value's box and a chart's
// figure are copied from their templates when first shown. Screen
// readers hear of the connection's news only: a snapshot a second would
// drown everything else.
type dashboardView struct {
	page                                  Page
	state, detail, toggle, values, charts Element
	status                                Element // the live region
	news                                  *stateNews
}

func newDashboardView(page Page) dashboardView {
	return dashboardView{page, page.ByID("dash-state"), page.ByID("dash-detail"), page.ByID("dash-connect"),
		page.ByID("dash-values"), page.ByID("dash-charts"), page.ByID("announce-status"), &stateNews{name: "Dashboard"}}
}

func (v dashboardView) DashboardState(s app.ConnState, detail string, active bool) {
	showState(v.state, s)
	announce(v.page, v.status, v.news.say(s))
	v.detail.SetText(detail)
	v.toggle.SetText(app.ToggleLabel(active))
	v.toggle.SetDisabled(false)
}

func (v dashboardView) DashboardValues(values []app.Value) {
	for _, val := range values {
		box := v.values.Find("key", val.Key)
		if box == nil {
			box = v.page.Clone("metric")
			box.SetData("key", val.Key)
			box.Slot("label").SetText(val.Label)
			v.values.Insert(box, nil)
		}
		box.Slot("value").SetText(val.Text)
	}
}

func (v dashboardView) DashboardPlots(plots []app.Plot) {
	for _, p := range plots {
		fig := v.charts.Find("chart", p.ID)
		if fig == nil {
			fig = v.newChart(p)
			v.charts.Insert(fig, nil)
		}
		draw(fig, p)
	}
}

// newChart copies the chart template for p, with a legend entry per line.
func (v dashboardView) newChart(p app.Plot) Element {
	fig := v.page.Clone("chart")
	fig.SetData("chart", p.ID)
	fig.Slot("title").SetText(p.Title)
	for i, l := range p.Lines {
		item := v.page.Clone("legend-item")
		item.SetData("line", strconv.Itoa(i))
		item.Slot("swatch").SetStyle("background", l.Color)
		item.Slot("label").SetText(l.Label)
		fig.Slot("legend").Insert(item, nil)
	}
	return fig
}

// draw draws p on fig's canvas, and shows the lines' newest values, in
// the legend and in the canvas's text alternative.
func draw(fig Element, p app.Plot) {
	canvas := fig.Slot("canvas")
	c := canvas.Canvas(p.Width, p.Height)
	c.Clear()
	for _, s := range p.Strokes() {
		c.Stroke(s.Color, s.Width, s.Coords())
	}
	for _, l := range p.Labels() {
		c.Text(l.At.X, l.At.Y, l.Text, l.Align, l.Baseline, l.Color)
	}
	canvas.SetData("points", strconv.Itoa(p.Points))
	legend := fig.Slot("legend")
	changed := false
	for i, l := range p.Lines {
		// Only on change: most redraws change no value.
		if value := legend.Find("line", strconv.Itoa(i)).Slot("value"); value.Text() != l.Current {
			value.SetText(l.Current)
			changed = true
		}
	}
	if changed {
		canvas.SetLabel(chartSummary(p))
	}
}

// chartSummary is a chart's text alternative: what it shows, and each
// line's newest value, such as "Connections, latest: all 5, chat 4".
func chartSummary(p app.Plot) string {
	values := make([]string, len(p.Lines))
	for i, l := range p.Lines {
		values[i] = l.Label + " " + l.Current
	}
	return p.Title + ", latest: " + strings.Join(values, ", ")
}
