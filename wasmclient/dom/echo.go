package dom

import (
	"strings"

	"wsplay/wasmclient/app"
)

// Echo returns the client of the page's echo panel, for the socket at
// url, with the panel's controls wired to it.
func Echo(page Page, loop *app.Loop, url string) *app.Echo {
	v := newEchoView(page)
	echo := app.NewEcho(loop, v, url)
	echo.Inspect = inspector(page, page.ByID("echo"), "echo", loop, func(mode app.Mode, input string) error {
		echo.Send(mode, input)
		return nil
	}, &listeners{})
	page.ByID("echo-url").SetText(url)
	v.toggle.On("click", func(Event) { loop.Post(echo.Toggle) })
	page.ByID("echo-big").On("click", func(Event) { loop.Post(echo.SendTooBig) })
	mode := page.ByID("echo-mode")
	mode.On("change", func(Event) {
		// What to type, and the errors, follow the mode.
		v.input.SetPlaceholder(app.Mode(mode.Value()).Placeholder())
		v.problem.SetText("")
	})
	v.send.SetDisabled(false)
	page.ByID("echo-big").SetDisabled(false)
	page.ByID("echo-form").On("submit", func(e Event) {
		e.PreventDefault() // the page must not navigate
		mode, input := app.Mode(mode.Value()), v.input.Value()
		loop.Post(func() { echo.Send(mode, input) })
	})
	return echo
}

// echoView shows the echo panel, and tells screen readers of each new
// row of its log and of the connection's news.
type echoView struct {
	page                                     Page
	state, toggle, send, input, problem, log Element
	frames, status                           Element // live regions
	news                                     *stateNews
}

func newEchoView(page Page) echoView {
	return echoView{page, page.ByID("echo-state"), page.ByID("echo-connect"), page.ByID("echo-send"),
		page.ByID("echo-input"), page.ByID("echo-error"), page.ByID("echo-log"),
		page.ByID("announce-echo"), page.ByID("announce-status"), &stateNews{name: "Echo"}}
}

func (v echoView) EchoState(s app.ConnState) {
	showState(v.state, s)
	announce(v.page, v.status, v.news.say(s))
	c := app.EchoControlsIn(s)
	v.toggle.SetText(c.Toggle)
	v.toggle.SetDisabled(!c.CanToggle)
	switch s { // for the tests and scripts/pageload, which time the first connection
	case app.Connecting:
		v.page.Stamp("echoDialMs")
	case app.Connected:
		v.page.Stamp("echoConnectedMs")
	}
}

func (v echoView) EchoLog(e app.LogEntry) {
	r, row := e.Row(), v.page.Clone("echo-row")
	row.SetData("dir", r.Dir)
	row.SetData("kind", r.Kind)
	fill(row, map[string]string{"time": r.Time, "dir": r.Dir, "kind": r.Kind, "size": r.Size, "rtt": r.RTT, "data": r.Data})
	v.log.Prepend(row, maxRows)
	announce(v.page, v.frames, frameNews(r))
}

// maxNewsData bounds how much of a frame a screen reader reads out; the
// log shows it whole.
const maxNewsData = 200

// frameNews is what a screen reader says of a new row of the log, such
// as "received text, 5 B, round trip 1.2ms: hello".
func frameNews(r app.LogRow) string {
	head := []string{r.Dir + " " + r.Kind}
	if r.Size != "" {
		head = append(head, r.Size)
	}
	if r.RTT != "" {
		head = append(head, "round trip "+r.RTT)
	}
	data := r.Data
	if len(data) > maxNewsData {
		data = strings.ToValidUTF8(data[:maxNewsData], "") + "…"
	}
	if data == "" {
		return strings.Join(head, ", ")
	}
	return strings.Join(head, ", ") + ": " + data
}

func (v echoView) EchoError(msg string) { v.problem.SetText(msg) }

func (v echoView) EchoSent() { v.input.SetValue("") }
