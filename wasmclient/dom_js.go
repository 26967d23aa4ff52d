package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// listen calls fn for each of el's events of that name. fn runs inside a
// JavaScript callback, so it must not block: it reads what it needs and
// posts the work to the loop. The listener lives as long as the element.
func (p *page) listen(el js.Value, name string, fn func(event)) {
	f := js.FuncOf(func(this js.Value, args []js.Value) any {
		fn(event{args[0]})
		return nil
	})
	el.Call("addEventListener", name, f)
}

// on is listen for the element with that id.
func (p *page) on(id, name string, fn func(event)) { p.listen(p.byID(id), name, fn) }

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
	c := app.EchoControlsIn(s)
	btn := v.p.byID("echo-connect")
	btn.Set("disabled", !c.CanToggle)
	btn.Set("textContent", c.Toggle)
	v.p.byID("echo-send").Set("disabled", !c.CanSend)
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
	r := e.Row()
	row := v.p.doc.Call("createElement", "tr")
	ds := row.Get("dataset")
	ds.Set("dir", r.Dir)
	ds.Set("kind", r.Kind)
	for _, cell := range []struct{ class, text string }{
		{"time", r.Time}, {"dir", r.Arrow}, {"kind", r.Kind},
		{"size", r.Size}, {"rtt", r.RTT}, {"data", r.Data},
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

// polyline draws a line through pts, width pixels wide; a single point is
// drawn as a dot.
func (c canvas) polyline(pts []app.XY, color string, width float64) {
	if len(pts) == 0 {
		return
	}
	c.ctx.Set("strokeStyle", color)
	c.ctx.Set("fillStyle", color)
	c.ctx.Set("lineWidth", width)
	c.ctx.Set("lineJoin", "round")
	c.ctx.Call("beginPath")
	if len(pts) == 1 {
		c.ctx.Call("arc", pts[0].X, pts[0].Y, width, 0, 6.2832)
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
	btn.Set("textContent", app.ToggleLabel(active))
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
	for _, s := range p.Strokes() {
		c.polyline(s.Points, s.Color, s.Width)
	}
	for _, l := range p.Labels() {
		c.text(l.At.X, l.At.Y, l.Text, l.Align, l.Baseline, l.Color)
	}
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

// chatCard shows one virtual chat client: a card in #chat-clients.
type chatCard struct {
	p                                               *page
	root, head, state, detail, users, lines, typing js.Value
	input                                           js.Value
	shown                                           map[string]js.Value // the transcript's lines, by key
}

// newChatCard builds a card for user in room. onSend gets what the user
// submits, onTyping fires on input, onClose when the card's × is pressed;
// all three run inside JavaScript callbacks and must only post to the loop.
func newChatCard(p *page, user, room string, onSend func(string), onTyping func(), onClose func(*chatCard) func()) *chatCard {
	c := &chatCard{p: p, shown: map[string]js.Value{}}
	c.root = p.element("article", "card", "")
	c.root.Get("dataset").Set("user", user)

	c.head = p.element("header", "", "")
	c.head.Call("appendChild", p.element("h3", "", user+" @ "+room))
	c.state = p.element("span", "state", "")
	c.head.Call("appendChild", c.state)
	closeBtn := p.element("button", "close", "×")
	closeBtn.Set("type", "button")
	closeBtn.Set("title", "Remove this client")
	c.head.Call("appendChild", closeBtn)
	c.root.Call("appendChild", c.head)

	c.detail = p.element("div", "detail", "")
	c.users = p.element("div", "users", "")
	c.lines = p.element("ol", "transcript", "")
	c.lines.Call("setAttribute", "aria-live", "polite")
	c.typing = p.element("div", "typing", "")
	form := p.element("form", "", "")
	c.input = p.element("input", "", "")
	c.input.Set("placeholder", "Message as "+user)
	c.input.Set("autocomplete", "off")
	send := p.element("button", "", "Send")
	send.Set("type", "submit")
	form.Call("appendChild", c.input)
	form.Call("appendChild", send)
	for _, el := range []js.Value{c.detail, c.users, c.lines, c.typing, form} {
		c.root.Call("appendChild", el)
	}

	p.listen(form, "submit", func(e event) {
		e.preventDefault()
		text := c.input.Get("value").String()
		c.input.Set("value", "")
		onSend(text)
	})
	p.listen(c.input, "input", func(event) { onTyping() })
	closed := onClose(c)
	p.listen(closeBtn, "click", func(event) { closed() })
	p.byID("chat-clients").Call("appendChild", c.root)
	return c
}

func (c *chatCard) remove() { c.root.Call("remove") }

func (c *chatCard) ChatState(s app.ConnState, detail string) {
	c.state.Set("textContent", s.String())
	c.state.Get("dataset").Set("state", s.String())
	c.detail.Set("textContent", detail)
}

// ChatShow shows l before the line keyed before (last for ""), in place
// of its earlier version if there is one.
func (c *chatCard) ChatShow(l app.ChatLine, before string) {
	li, shown := c.shown[l.Key]
	if shown {
		li.Set("textContent", "")
	} else {
		li = c.p.element("li", "", "")
		c.shown[l.Key] = li
	}
	r := l.Row()
	li.Set("className", r.Class)
	ds := li.Get("dataset")
	ds.Set("kind", r.Kind)
	if r.Seq != "" {
		ds.Set("seq", r.Seq)
	}
	if r.Time != "" {
		li.Call("appendChild", c.p.element("time", "", r.Time))
	}
	if r.Who != "" {
		li.Call("appendChild", c.p.element("span", "who", r.Who))
		li.Call("appendChild", c.p.element("span", "content", r.Text))
	} else {
		li.Call("appendChild", c.p.doc.Call("createTextNode", r.Text))
	}
	if next, ok := c.shown[before]; ok {
		c.lines.Call("insertBefore", li, next)
	} else {
		c.lines.Call("appendChild", li)
	}
	if !shown {
		c.lines.Set("scrollTop", c.lines.Get("scrollHeight"))
	}
}

// ChatDrop removes the line keyed key.
func (c *chatCard) ChatDrop(key string) {
	if li, ok := c.shown[key]; ok {
		li.Call("remove")
		delete(c.shown, key)
	}
}

func (c *chatCard) ChatUsers(users app.Presence) {
	c.users.Set("textContent", "")
	c.users.Call("appendChild", c.p.doc.Call("createTextNode", users.Heading()))
	for i, u := range users {
		if i > 0 {
			c.users.Call("appendChild", c.p.doc.Call("createTextNode", ", "))
		}
		c.users.Call("appendChild", c.p.element("b", "", u))
	}
	c.root.Get("dataset").Set("users", users.List())
}

func (c *chatCard) ChatTyping(users app.Typing) { c.typing.Set("textContent", users.String()) }

func (c *chatCard) ChatError(msg string) { c.detail.Set("textContent", msg) }

// notifyPane is a card's notification centre: the unread badge in the
// card's header, toasts for live notifications, the list with mark-read,
// and a form to poke another user. It implements app.NotifyView.
type notifyPane struct {
	p                           *page
	card                        js.Value
	badge, list, toasts, status js.Value
	items                       map[string]js.Value // notification id → list item
}

// newNotifyPane adds the pane to a card. The callbacks run inside
// JavaScript callbacks and must only post to the loop.
func newNotifyPane(p *page, c *chatCard, onMarkRead func(id string), onMarkAll func(), onPoke func(to, message string)) *notifyPane {
	n := &notifyPane{p: p, card: c.root, items: map[string]js.Value{}}
	n.badge = p.element("span", "badge", "0")
	n.badge.Set("title", "Unread notifications")
	n.badge.Get("dataset").Set("count", "0")
	c.head.Call("insertBefore", n.badge, c.state)

	n.toasts = p.element("div", "toasts", "")
	n.toasts.Call("setAttribute", "aria-live", "polite")
	details := p.element("details", "notes", "")
	details.Call("appendChild", p.element("summary", "", "Notifications"))
	n.status = p.element("div", "detail", "")
	markAll := p.element("button", "small", "Mark all read")
	markAll.Set("type", "button")
	n.list = p.element("ul", "note-list", "")
	poke := p.element("form", "poke", "")
	to := p.element("input", "", "")
	to.Set("placeholder", "poke user")
	to.Set("autocomplete", "off")
	msg := p.element("input", "", "")
	msg.Set("placeholder", "message (optional)")
	msg.Set("autocomplete", "off")
	pokeBtn := p.element("button", "small", "Poke")
	pokeBtn.Set("type", "submit")
	for _, el := range []js.Value{to, msg, pokeBtn} {
		poke.Call("appendChild", el)
	}
	for _, el := range []js.Value{n.status, markAll, n.list, poke} {
		details.Call("appendChild", el)
	}
	c.root.Call("insertBefore", n.toasts, c.detail)
	c.root.Call("appendChild", details)

	p.listen(markAll, "click", func(event) { onMarkAll() })
	p.listen(poke, "submit", func(e event) {
		e.preventDefault()
		onPoke(to.Get("value").String(), msg.Get("value").String())
		msg.Set("value", "")
	})
	// One listener for every item's button, by event delegation.
	p.listen(n.list, "click", func(e event) {
		if id := e.v.Get("target").Get("dataset").Get("markRead"); !id.IsUndefined() {
			onMarkRead(id.String())
		}
	})
	return n
}

func (n *notifyPane) NotifyState(s app.ConnState, detail string) {
	n.status.Set("textContent", app.NotifyStatus(s, detail))
}

func (n *notifyPane) Notify(note app.Note) {
	li := n.p.element("li", note.Class(), "")
	li.Get("dataset").Set("id", note.ID)
	li.Call("appendChild", n.p.element("strong", "", note.Title))
	text := note.Text()
	li.Call("appendChild", n.p.element("span", "", " "+text))
	btn := n.p.element("button", "small", "Mark read")
	btn.Set("type", "button")
	btn.Get("dataset").Set("markRead", note.ID)
	li.Call("appendChild", btn)
	n.list.Call("prepend", li)
	n.items[note.ID] = li
	for n.list.Get("children").Get("length").Int() > maxLogRows {
		last := n.list.Get("lastElementChild")
		delete(n.items, last.Get("dataset").Get("id").String())
		last.Call("remove")
	}
	if note.Toast() {
		toast := n.p.element("div", "toast", "")
		toast.Call("appendChild", n.p.element("strong", "", note.Title))
		toast.Call("appendChild", n.p.element("span", "", " "+text))
		n.toasts.Call("appendChild", toast)
		time.AfterFunc(5*time.Second, func() { toast.Call("remove") })
	}
}

func (n *notifyPane) Unread(count int) {
	n.badge.Set("textContent", strconv.Itoa(count))
	n.badge.Get("dataset").Set("count", strconv.Itoa(count))
}

func (n *notifyPane) MarkedRead(ids []string) {
	for _, id := range ids {
		if li, ok := n.items[id]; ok {
			li.Get("classList").Call("remove", "unread")
		}
	}
}

func (n *notifyPane) Poked(to string) { n.status.Set("textContent", app.PokedStatus(to)) }

func (n *notifyPane) NotifyError(msg string) { n.status.Set("textContent", msg) }

// fetchPost is the app.Poster of the page: POST through the browser's
// fetch. The promise callbacks only hand their result to a channel.
func fetchPost(ctx context.Context, url string, body []byte) (int, []byte, error) {
	type result struct {
		status int
		text   string
		err    error
	}
	done := make(chan result, 1)
	// Never block in a callback: the first result wins.
	send := func(r result) {
		select {
		case done <- r:
		default:
		}
	}
	var onText, onResponse, onError js.Func
	release := func() { onText.Release(); onResponse.Release(); onError.Release() }
	onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		send(result{err: errors.New("fetch: " + args[0].Call("toString").String())})
		return nil
	})
	var status int
	onText = js.FuncOf(func(_ js.Value, args []js.Value) any {
		send(result{status: status, text: args[0].String()})
		return nil
	})
	onResponse = js.FuncOf(func(_ js.Value, args []js.Value) any {
		status = args[0].Get("status").Int()
		args[0].Call("text").Call("then", onText, onError)
		return nil
	})
	init := map[string]any{
		"method":      "POST",
		"body":        string(body),
		"headers":     map[string]any{"Content-Type": "application/json"},
		"credentials": "same-origin",
	}
	js.Global().Call("fetch", url, init).Call("then", onResponse, onError)
	select {
	case r := <-done:
		release()
		return r.status, []byte(r.text), r.err
	case <-ctx.Done():
		// The callbacks may still run: leave them alive; done is buffered.
		return 0, nil, ctx.Err()
	}
}
