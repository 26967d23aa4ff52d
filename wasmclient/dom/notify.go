package dom

import (
	"strconv"
	"time"

	"wsplay/wasmclient/app"
)

// toastTime is how long a toast shows.
const toastTime = 5 * time.Second

// notifyPane is a card's notification centre: the badge and the toasts,
// which the card's template has, and below the chat a copy of the
// notify-pane template, with the list and a form to poke a user.
type notifyPane struct {
	page                              Page
	loop                              *app.Loop // from open
	root, badge, toasts, status, list Element
	listeners                         listeners
}

func newNotifyPane(page Page, card Element) *notifyPane {
	root := page.Clone("notify-pane")
	card.Insert(root, nil)
	return &notifyPane{page: page, root: root, badge: card.Slot("badge"), toasts: card.Slot("toasts"),
		status: root.Slot("status"), list: root.Slot("list")}
}

// open listens to the pane's controls, for card.
func (n *notifyPane) open(loop *app.Loop, card *app.Card) {
	n.loop = loop
	n.listeners.on(n.root.Slot("mark-all"), "click", func(Event) { loop.Post(card.MarkAllRead) })
	to, message := n.root.Slot("to"), n.root.Slot("message")
	n.listeners.on(n.root.Slot("poke"), "submit", func(e Event) {
		e.PreventDefault()
		who, text := to.Value(), message.Value()
		message.SetValue("")
		loop.Post(func() { card.Poke(who, text) })
	})
	// One listener for every item's button, by event delegation.
	n.listeners.on(n.list, "click", func(e Event) {
		if id, ok := e.TargetData("markRead"); ok {
			loop.Post(func() { card.MarkRead(id) })
		}
	})
}

// close releases the pane's listeners.
func (n *notifyPane) close() { n.listeners.close() }

func (n *notifyPane) NotifyState(s app.ConnState, detail string) {
	n.status.SetText(app.NotifyStatus(s, detail))
}

func (n *notifyPane) Notify(note app.Note) {
	text := map[string]string{"title": note.Title, "text": note.Text()}
	item := n.page.Clone("note-item")
	item.SetData("id", note.ID)
	item.SetClass(note.Class())
	fill(item, text)
	item.Slot("mark").SetData("markRead", note.ID)
	n.list.Prepend(item, maxRows)
	if note.Toast() {
		toast := n.page.Clone("toast")
		fill(toast, text)
		n.toasts.Insert(toast, nil)
		time.AfterFunc(toastTime, func() { n.loop.Post(toast.Remove) })
	}
}

func (n *notifyPane) Unread(count int) {
	n.badge.SetText(strconv.Itoa(count))
	n.badge.SetData("count", strconv.Itoa(count))
}

func (n *notifyPane) MarkedRead(ids []string) {
	for _, id := range ids {
		if item := n.list.Find("id", id); item != nil {
			item.SetClass("")
		}
	}
}

func (n *notifyPane) Poked(to string) { n.status.SetText(app.PokedStatus(to)) }

func (n *notifyPane) NotifyError(msg string) { n.status.SetText(msg) }
