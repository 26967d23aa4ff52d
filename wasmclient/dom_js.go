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
