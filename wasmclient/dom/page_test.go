package dom

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"wsplay/site"
)

// fakePage is a Page in memory, made from the real index.html: it has an
// element for each id of the page, and a copy of a template has one
// element for each part its markup marks data-slot. So a view that asks
// for an element or a slot the page lacks fails the test, as it would
// fail in the browser. It is not safe for concurrent use: the tests call
// the views on the loop, as the client does.
type fakePage struct {
	t         *testing.T
	slots     map[string][]string // template id → its slots, in order
	ids       map[string]*fakeElement
	listeners int      // added and not removed
	stamps    []string // Stamp's names, in order
	focused   *fakeElement
}

var (
	templateRE = regexp.MustCompile(`(?s)<template id="([^"]+)">(.*?)</template>`)
	slotRE     = regexp.MustCompile(`data-slot="([^"]+)"`)
	idRE       = regexp.MustCompile(`\sid="([^"]+)"`)
)

func newFakePage(t *testing.T) *fakePage {
	html, err := fs.ReadFile(site.Files(), "index.html")
	require.NoError(t, err)
	p := &fakePage{t: t, slots: map[string][]string{}, ids: map[string]*fakeElement{}}
	rest := string(html)
	for _, m := range templateRE.FindAllStringSubmatch(rest, -1) {
		p.slots[m[1]] = []string{}
		for _, s := range slotRE.FindAllStringSubmatch(m[2], -1) {
			p.slots[m[1]] = append(p.slots[m[1]], s[1])
		}
		rest = strings.Replace(rest, m[0], "", 1)
	}
	require.NotEmpty(t, p.slots, "index.html has templates")
	for _, m := range idRE.FindAllStringSubmatch(rest, -1) {
		p.ids[m[1]] = p.element("#" + m[1])
	}
	return p
}

func (p *fakePage) element(name string) *fakeElement {
	return &fakeElement{page: p, name: name, data: map[string]string{}, props: map[string]any{}, style: map[string]string{}}
}

func (p *fakePage) ByID(id string) Element { return p.byID(id) }

func (p *fakePage) byID(id string) *fakeElement {
	if e, ok := p.ids[id]; ok {
		return e
	}
	p.t.Errorf("the page has no element #%s", id)
	return p.element("#" + id)
}

func (p *fakePage) Clone(template string) Element {
	slots, ok := p.slots[template]
	if !ok {
		p.t.Errorf("the page has no template #%s", template)
	}
	e := p.element(template)
	for _, s := range slots {
		child := p.element(template + "/" + s)
		child.slot = s
		e.Insert(child, nil)
	}
	return e
}

func (p *fakePage) Stamp(name string) {
	if !slices.Contains(p.stamps, name) {
		p.stamps = append(p.stamps, name)
	}
}

// fakeElement is an element of a fakePage. A copy's slots are its
// children, flat, in the template's order.
type fakeElement struct {
	page     *fakePage
	name     string // #id, template id, or template/slot: for messages
	slot     string
	text     string
	class    string
	data     map[string]string
	props    map[string]any
	style    map[string]string
	parent   *fakeElement
	children []*fakeElement
	on       map[string][]*func(Event)
	canvas   *fakeCanvas
}

// walk calls fn for each element below e, in document order, until fn
// returns true.
func (e *fakeElement) walk(fn func(*fakeElement) bool) *fakeElement {
	for _, c := range e.children {
		if fn(c) {
			return c
		}
		if found := c.walk(fn); found != nil {
			return found
		}
	}
	return nil
}

func (e *fakeElement) Slot(name string) Element {
	if s := e.walk(func(c *fakeElement) bool { return c.slot == name }); s != nil {
		return s
	}
	e.page.t.Errorf("%s has no slot %q", e.name, name)
	return e.page.element(name)
}

func (e *fakeElement) Find(name, value string) Element {
	has := func(c *fakeElement) bool { v, ok := c.data[name]; return ok && v == value }
	if f := e.walk(has); f != nil {
		return f
	}
	return nil // not a nil *fakeElement: an Element that is nil
}

func (e *fakeElement) Text() string { return e.text }

func (e *fakeElement) SetText(text string) {
	e.Clear()
	e.text = text
}

func (e *fakeElement) SetData(name, value string) {
	if value == "" {
		delete(e.data, name)
	} else {
		e.data[name] = value
	}
}

func (e *fakeElement) SetClass(classes string)         { e.class = classes }
func (e *fakeElement) SetStyle(property, value string) { e.style[property] = value }
func (e *fakeElement) SetValue(value string)           { e.props["value"] = value }
func (e *fakeElement) SetPlaceholder(text string)      { e.props["placeholder"] = text }
func (e *fakeElement) SetDisabled(off bool)            { e.props["disabled"] = off }
func (e *fakeElement) ScrollToEnd()                    { e.props["scrolledToEnd"] = true }
func (e *fakeElement) SetLabel(text string)            { e.props["label"] = text }
func (e *fakeElement) Focus()                          { e.page.focused = e }

// HasFocus is true when the focused element is e or below it, and in the
// page: one taken out of the page loses the focus, as in a browser.
func (e *fakeElement) HasFocus() bool {
	f := e.page.focused
	for f != nil && f != e {
		f = f.parent
	}
	return f != nil && e.inPage()
}

// inPage says whether e is an element of the page, or inside one.
func (e *fakeElement) inPage() bool {
	for ; e != nil; e = e.parent {
		if strings.HasPrefix(e.name, "#") {
			return true
		}
	}
	return false
}

// label returns e's accessible name as SetLabel set it.
func (e *fakeElement) label() string {
	s, _ := e.props["label"].(string)
	return s
}

func (e *fakeElement) Value() string {
	s, _ := e.props["value"].(string)
	return s
}

func (e *fakeElement) Insert(child, next Element) {
	c := child.(*fakeElement)
	c.Remove()
	i := len(e.children)
	if next != nil {
		if i = slices.Index(e.children, next.(*fakeElement)); i < 0 {
			e.page.t.Errorf("insert into %s before %s, which is not in it", e.name, next.(*fakeElement).name)
			i = len(e.children)
		}
	}
	e.children = slices.Insert(e.children, i, c)
	c.parent = e
}

func (e *fakeElement) Prepend(child Element, max int) {
	var first Element
	if len(e.children) > 0 {
		first = e.children[0]
	}
	e.Insert(child, first)
	for len(e.children) > max {
		e.children[len(e.children)-1].Remove()
	}
}

func (e *fakeElement) Clear() {
	for len(e.children) > 0 {
		e.children[0].Remove()
	}
	e.text = ""
}

func (e *fakeElement) Remove() {
	if e.parent != nil {
		e.parent.children = slices.DeleteFunc(e.parent.children, func(c *fakeElement) bool { return c == e })
		e.parent = nil
	}
}

func (e *fakeElement) On(event string, fn func(Event)) (remove func()) {
	if e.on == nil {
		e.on = map[string][]*func(Event){}
	}
	f := &fn
	e.on[event] = append(e.on[event], f)
	e.page.listeners++
	return sync.OnceFunc(func() {
		e.on[event] = slices.DeleteFunc(e.on[event], func(g *func(Event)) bool { return g == f })
		e.page.listeners--
	})
}

// fire calls e's listeners for event, as the browser would.
func (e *fakeElement) fire(event string, ev *fakeEvent) {
	for _, fn := range slices.Clone(e.on[event]) {
		(*fn)(ev)
	}
}

func (e *fakeElement) Canvas(w, h float64) Canvas {
	if e.canvas == nil {
		e.canvas = &fakeCanvas{}
	}
	e.canvas.w, e.canvas.h = w, h
	return e.canvas
}

// keys returns the data-key of each child, in order.
func (e *fakeElement) keys() []string {
	var keys []string
	for _, c := range e.children {
		keys = append(keys, c.data["key"])
	}
	return keys
}

// slotText returns the text of e's slot name.
func (e *fakeElement) slotText(name string) string { return e.Slot(name).Text() }

type fakeEvent struct {
	prevented bool
	target    map[string]string // the data of the element it happened on
}

func (ev *fakeEvent) PreventDefault() { ev.prevented = true }

func (ev *fakeEvent) TargetData(name string) (string, bool) {
	v, ok := ev.target[name]
	return v, ok
}

// fakeCanvas counts what is drawn on it since the last Clear.
type fakeCanvas struct {
	w, h           float64
	strokes, texts int
	clears         int
}

func (c *fakeCanvas) Clear() {
	c.strokes, c.texts = 0, 0
	c.clears++
}

func (c *fakeCanvas) Stroke(string, float64, []float64) { c.strokes++ }

func (c *fakeCanvas) Text(float64, float64, string, string, string, string) { c.texts++ }

// walkAll returns e and every element below it.
func (e *fakeElement) walkAll() []*fakeElement {
	all := []*fakeElement{e}
	e.walk(func(c *fakeElement) bool { all = append(all, c); return false })
	return all
}
