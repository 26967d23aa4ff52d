package dom

import "wsplay/wasmclient/app"

// Page is the page as the views see it: its elements, and copies of its
// templates. Browser (in page_js.go) is the page in the browser.
type Page interface {
	// ByID returns the page's element with that id. The page and the
	// client are built together, so a missing one is a bug: the browser's
	// page panics.
	ByID(id string) Element
	// Clone returns a copy of the <template> with that id: its first
	// element, not yet in the page.
	Clone(template string) Element
	// Stamp sets the body's data-* attribute of that dataset name, unless
	// it is set, to the milliseconds since the page began to load: for
	// tests that time the page.
	Stamp(name string)
}

// Element is an element of the page, or of a template's copy. Text goes
// in only as text: nothing here sets markup.
type Element interface {
	// Slot returns the element in this one marked data-slot=name; a
	// missing one is a bug, as for Page.ByID.
	Slot(name string) Element
	// Find returns the first element in this one whose data-name is
	// value, or nil; name is one lower-case word.
	Find(name, value string) Element
	// Text returns the element's text.
	Text() string
	// SetText replaces the element's content with text, as text.
	SetText(text string)
	// SetData sets the data-* attribute of that dataset name, or removes
	// it when value is "".
	SetData(name, value string)
	// SetClass sets the element's classes, separated by spaces.
	SetClass(classes string)
	// SetStyle sets one CSS property, through the CSSOM, which the page's
	// content security policy allows.
	SetStyle(property, value string)
	// Value returns the value of an input, a select or an option.
	Value() string
	// SetValue sets the value of an input or an option.
	SetValue(value string)
	// SetPlaceholder sets an input's placeholder.
	SetPlaceholder(text string)
	// SetLabel sets the element's accessible name (aria-label), for a
	// control whose text alone lacks context, such as a card's ×.
	SetLabel(text string)
	// Focus moves the keyboard focus to the element.
	Focus()
	// HasFocus says whether the element, or one inside it, has the
	// keyboard focus.
	HasFocus() bool
	// SetDisabled turns a control off, or on again.
	SetDisabled(off bool)
	// Insert puts child in this element just before next, or last when
	// next is nil. A child already in it moves.
	Insert(child, next Element)
	// Prepend puts child first in this element, and removes the last
	// children beyond max.
	Prepend(child Element, max int)
	// Clear removes the element's content.
	Clear()
	// Remove takes the element out of the page.
	Remove()
	// ScrollToEnd scrolls the element to its bottom.
	ScrollToEnd()
	// On calls fn with each event of that name on the element, until
	// remove is called; remove removes the listener and releases its
	// js.Func, once. fn runs inside a JavaScript callback and must not
	// block.
	On(event string, fn func(Event)) (remove func())
	// Canvas returns the 2D context of a canvas element, sized w × h CSS
	// pixels.
	Canvas(w, h float64) Canvas
}

// Event is a DOM event, as a listener gets it.
type Event interface {
	// PreventDefault stops what the browser would do, such as submit.
	PreventDefault()
	// TargetData returns the data-* attribute of that dataset name of the
	// element the event happened on.
	TargetData(name string) (string, bool)
}

// Canvas draws on a canvas in CSS pixels.
type Canvas interface {
	// Clear erases the canvas.
	Clear()
	// Stroke draws a line through xy (x0, y0, x1, y1, …); one point is a
	// dot.
	Stroke(color string, width float64, xy []float64)
	// Text writes text at x, y: align is left, center or right, baseline
	// top, middle or bottom.
	Text(x, y float64, text, align, baseline, color string)
}

// Started says on the page that the client has started or, when err is
// not nil, why it could not.
func Started(page Page, err error) {
	el := page.ByID("runtime")
	if err != nil {
		el.SetText("The Go client could not start: " + err.Error())
		el.SetData("state", "error")
		return
	}
	el.SetText("Go client running (GOOS=js GOARCH=wasm).")
	el.SetData("state", "running")
}

// maxRows bounds the echo log and each notification list; the oldest
// rows go first.
const maxRows = 200

// maxAnnouncements bounds each live region: what a screen reader has
// read goes, the oldest first.
const maxAnnouncements = 20

// announce adds text to the live region, newest first, for screen
// readers to read out; "" says nothing.
func announce(page Page, region Element, text string) {
	if text == "" {
		return
	}
	p := page.Clone("announcement")
	p.SetText(text)
	region.Prepend(p, maxAnnouncements)
}

// stateNews decides which connection states of one client are news to a
// screen reader: being connected, and then losing it. The states between
// (connecting, each failed attempt of a reconnect) are not, or every
// attempt would be read out.
type stateNews struct {
	name      string // what the client is called, such as "Echo"
	connected bool   // the last news was "connected"
}

// say returns the news of state s, or "" when there is none.
func (n *stateNews) say(s app.ConnState) string {
	switch {
	case s == app.Connected && !n.connected:
		n.connected = true
	case s == app.Disconnected && n.connected:
		n.connected = false
	default:
		return ""
	}
	return n.name + ": " + s.String()
}

// fill sets the text of each slot of el named in text.
func fill(el Element, text map[string]string) {
	for name, s := range text {
		el.Slot(name).SetText(s)
	}
}

// showState shows a connection state in el, as text and as data-state.
func showState(el Element, s app.ConnState) {
	el.SetText(s.String())
	el.SetData("state", s.String())
}

// listeners are one view's listeners, removed together by close.
type listeners []func()

func (l *listeners) on(el Element, event string, fn func(Event)) {
	*l = append(*l, el.On(event, fn))
}

func (l *listeners) close() {
	for _, remove := range *l {
		remove()
	}
	*l = nil
}
