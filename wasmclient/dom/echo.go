package dom

import "wsplay/wasmclient/app"

// Echo returns the client of the page's echo panel, for the socket at
// url, with the panel's controls wired to it.
func Echo(page Page, loop *app.Loop, url string) *app.Echo {
	v := newEchoView(page)
	echo := app.NewEcho(loop, v, url)
	page.ByID("echo-url").SetText(url)
	v.toggle.On("click", func(Event) { loop.Post(echo.Toggle) })
	page.ByID("echo-form").On("submit", func(e Event) {
		e.PreventDefault() // the page must not navigate
		mode, input := app.Mode(page.ByID("echo-mode").Value()), v.input.Value()
		loop.Post(func() { echo.Send(mode, input) })
	})
	return echo
}

// echoView shows the echo panel.
type echoView struct {
	page                                     Page
	state, toggle, send, input, problem, log Element
}

func newEchoView(page Page) echoView {
	return echoView{page, page.ByID("echo-state"), page.ByID("echo-connect"), page.ByID("echo-send"),
		page.ByID("echo-input"), page.ByID("echo-error"), page.ByID("echo-log")}
}

func (v echoView) EchoState(s app.ConnState) {
	showState(v.state, s)
	c := app.EchoControlsIn(s)
	v.toggle.SetText(c.Toggle)
	v.toggle.SetDisabled(!c.CanToggle)
	v.send.SetDisabled(!c.CanSend)
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
	fill(row, map[string]string{"time": r.Time, "dir": r.Arrow, "kind": r.Kind, "size": r.Size, "rtt": r.RTT, "data": r.Data})
	v.log.Prepend(row, maxRows)
}

func (v echoView) EchoError(msg string) { v.problem.SetText(msg) }

func (v echoView) EchoSent() { v.input.SetValue("") }
