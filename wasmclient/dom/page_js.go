package dom

import (
	"sync"
	"sync/atomic"
	"syscall/js"
)

// Browser returns the page the client runs in.
func Browser() Page { return browser{js.Global().Get("document")} }

// Location returns the page's URL.
func Location() string { return js.Global().Get("location").Get("href").String() }

// Names returns the user names site/main.js chose for this tab: the two
// cards' and the one echo and the dashboard log in as.
func Names() (card1, card2, visitor string) {
	n := js.Global().Get("wsplayNames")
	return n.Index(0).String(), n.Index(1).String(), n.Index(2).String()
}

type browser struct{ doc js.Value }

func (b browser) ByID(id string) Element {
	el := b.doc.Call("getElementById", id)
	if el.IsNull() {
		panic("dom: the page has no element #" + id)
	}
	return element{el}
}

// Clone copies the template's first element, not its whole content as
// content.cloneNode(true) would: a fragment empties as it goes into the
// page, and the view keeps the element to update it.
func (b browser) Clone(template string) Element {
	t := b.ByID(template).(element).v
	return element{t.Get("content").Get("firstElementChild").Call("cloneNode", true)}
}

func (b browser) Stamp(name string) {
	if body := b.doc.Get("body").Get("dataset"); body.Get(name).IsUndefined() {
		body.Set(name, js.Global().Get("performance").Call("now"))
	}
}

// element is an Element of the browser's page.
type element struct{ v js.Value }

func (e element) Slot(name string) Element {
	s := e.v.Call("querySelector", `[data-slot="`+name+`"]`)
	if s.IsNull() {
		panic("dom: no slot " + name)
	}
	return element{s}
}

func (e element) Find(name, value string) Element {
	value = js.Global().Get("CSS").Call("escape", value).String()
	if s := e.v.Call("querySelector", "[data-"+name+`="`+value+`"]`); !s.IsNull() {
		return element{s}
	}
	return nil
}

func (e element) Text() string            { return e.v.Get("textContent").String() }
func (e element) SetText(text string)     { e.v.Set("textContent", text) }
func (e element) SetClass(classes string) { e.v.Set("className", classes) }
func (e element) SetStyle(prop, v string) { e.v.Get("style").Set(prop, v) }
func (e element) SetValue(value string)   { e.v.Set("value", value) }
func (e element) SetPlaceholder(s string) { e.v.Set("placeholder", s) }
func (e element) SetDisabled(off bool)    { e.v.Set("disabled", off) }
func (e element) Value() string           { return e.v.Get("value").String() }
func (e element) SetLabel(text string)    { e.v.Call("setAttribute", "aria-label", text) }
func (e element) Focus()                  { e.v.Call("focus") }

func (e element) HasFocus() bool {
	return e.v.Call("contains", js.Global().Get("document").Get("activeElement")).Bool()
}
func (e element) Clear()       { e.v.Call("replaceChildren") }
func (e element) Remove()      { e.v.Call("remove") }
func (e element) ScrollToEnd() { e.v.Set("scrollTop", e.v.Get("scrollHeight")) }

func (e element) SetData(name, value string) {
	if value == "" {
		e.v.Get("dataset").Delete(name)
	} else {
		e.v.Get("dataset").Set(name, value)
	}
}

func (e element) Insert(child, next Element) {
	ref := js.Null()
	if next != nil {
		ref = next.(element).v
	}
	e.v.Call("insertBefore", child.(element).v, ref)
}

func (e element) Prepend(child Element, max int) {
	e.v.Call("prepend", child.(element).v)
	for e.v.Get("childElementCount").Int() > max {
		e.v.Get("lastElementChild").Call("remove")
	}
}

func (e element) On(event string, fn func(Event)) (remove func()) {
	f := funcOf(func(_ js.Value, args []js.Value) any {
		fn(jsEvent{args[0]})
		return nil
	})
	e.v.Call("addEventListener", event, f)
	return sync.OnceFunc(func() {
		e.v.Call("removeEventListener", event, f)
		release(f)
	})
}

type jsEvent struct{ v js.Value }

func (ev jsEvent) PreventDefault() { ev.v.Call("preventDefault") }

func (ev jsEvent) TargetData(name string) (string, bool) {
	v := ev.v.Get("target").Get("dataset").Get(name)
	return v.String(), !v.IsUndefined()
}

// live counts the js.Funcs made and not released; the body's
// data-live-funcs shows it.
var live atomic.Int64

func funcOf(fn func(js.Value, []js.Value) any) js.Func {
	f := js.FuncOf(fn)
	showLive(live.Add(1))
	return f
}

func release(f js.Func) {
	f.Release()
	showLive(live.Add(-1))
}

func showLive(n int64) {
	js.Global().Get("document").Get("body").Get("dataset").Set("liveFuncs", n)
}

func (e element) Canvas(w, h float64) Canvas {
	dpr := js.Global().Get("devicePixelRatio").Float() // sharp on high-DPI screens
	if e.v.Get("width").Int() != int(w*dpr) {
		e.v.Set("width", int(w*dpr))
		e.v.Set("height", int(h*dpr))
	}
	ctx := e.v.Call("getContext", "2d")
	ctx.Call("setTransform", dpr, 0, 0, dpr, 0, 0)
	return canvas{ctx, w, h}
}

type canvas struct {
	ctx  js.Value
	w, h float64
}

func (c canvas) Clear() { c.ctx.Call("clearRect", 0, 0, c.w, c.h) }

func (c canvas) Stroke(color string, width float64, xy []float64) {
	c.ctx.Set("strokeStyle", color)
	c.ctx.Set("fillStyle", color)
	c.ctx.Set("lineWidth", width)
	c.ctx.Set("lineJoin", "round")
	c.ctx.Call("beginPath")
	if len(xy) == 2 {
		c.ctx.Call("arc", xy[0], xy[1], width, 0, 6.2832)
		c.ctx.Call("fill")
		return
	}
	for i := 0; i+1 < len(xy); i += 2 {
		c.ctx.Call("lineTo", xy[i], xy[i+1]) // the first one of a path moves
	}
	c.ctx.Call("stroke")
}

func (c canvas) Text(x, y float64, text, align, baseline, color string) {
	c.ctx.Set("font", "11px system-ui, sans-serif")
	c.ctx.Set("fillStyle", color)
	c.ctx.Set("textAlign", align)
	c.ctx.Set("textBaseline", baseline)
	c.ctx.Call("fillText", text, x, y)
}
