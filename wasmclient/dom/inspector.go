package dom

import (
	"strconv"

	"wsplay/wasmclient/app"
)

// inspector copies the inspector template into the slot "inspector" of
// root, names it for the client called name, and returns what shows the
// client's frames in its list, newest first, the last maxRows of them.
// Its raw-send form sends through raw, on the loop, text or binary as its
// mode says; its listener is
// added to l. The rest of the inspector (pretty JSON, filter, search,
// pause, clear, copy, export and import) is the page's own script,
// site/main.js, which costs the client nothing: an import replays the
// sent frames of a file through the same form.
func inspector(page Page, root Element, name string, loop *app.Loop, raw func(app.Mode, string) error, l *listeners) app.Inspector {
	v := page.Clone("inspector")
	root.Slot("inspector").Insert(v, nil)
	v.Slot("for").SetText(" of " + name)
	list, form, text, mode, problem := v.Slot("frames"), v.Slot("raw"), v.Slot("raw-text"), v.Slot("raw-mode"), v.Slot("raw-error")
	list.SetLabel("Frames of " + name + ", newest first")
	l.on(form, "submit", func(e Event) {
		e.PreventDefault()
		m, s := app.Mode(mode.Value()), text.Value()
		loop.Post(func() {
			problem.SetText("")
			if err := raw(m, s); err != nil {
				problem.SetText(err.Error())
			}
		})
	})
	return func(f app.Frame) {
		row := page.Clone("frame")
		row.SetData("dir", string(f.Dir))
		row.SetData("kind", f.Kind)
		row.SetData("at", strconv.FormatInt(f.Time.UnixMilli(), 10))
		row.Slot("text").SetText(f.Text)
		list.Prepend(row, maxRows)
	}
}
