package dom

import (
	"slices"
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
	page                                     Page
	card                                     *chatCard
	loop                                     *app.Loop // from open
	user                                     string    // from open
	root, badge, count, toasts, status, list Element
	listeners                                listeners
	// shown are the ids of the notifications in the list, in its order
	// (newest first), and unread those not read yet: where the focus
	// goes when a Mark read button goes away.
	shown  []string
	unread map[string]bool
}

func newNotifyPane(page Page, root Element, card *chatCard) *notifyPane {
	pane := page.Clone("notify-pane")
	root.Insert(pane, nil)
	return &notifyPane{page: page, card: card, root: pane, badge: root.Slot("badge"), count: root.Slot("count"), toasts: root.Slot("toasts"),
		status: pane.Slot("status"), list: pane.Slot("list"), unread: map[string]bool{}}
}

// open labels the pane's controls and listens to them, for card.
func (n *notifyPane) open(loop *app.Loop, card *app.Card) {
	n.loop, n.user = loop, card.Chat.User
	title := card.Title()
	n.root.Slot("for").SetText(" of " + title)
	card.Notes.Inspect = inspector(n.page, n.root, "notifications of "+title, loop, card.Notes.Raw, &n.listeners)
	n.list.SetLabel("Notifications of " + title)
	markAll := n.root.Slot("mark-all")
	markAll.SetLabel("Mark all read for " + n.user)
	n.root.Slot("poke-button").SetLabel("Poke as " + n.user)
	n.listeners.on(markAll, "click", func(Event) { loop.Post(card.MarkAllRead) })
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

// say adds text to the panel's live region for notifications.
func (n *notifyPane) say(text string) {
	if p := n.card.panel; p != nil {
		announce(n.page, p.notes, text)
	}
}

func (n *notifyPane) NotifyState(s app.ConnState, detail string) {
	n.status.SetText(app.NotifyStatus(s, detail))
}

func (n *notifyPane) Notify(note app.Note) {
	text := map[string]string{"title": note.Title, "text": note.Text()}
	item := n.page.Clone("note-item")
	item.SetData("id", note.ID)
	item.SetClass(note.Class())
	fill(item, text)
	mark := item.Slot("mark")
	mark.SetData("markRead", note.ID)
	mark.SetLabel("Mark read: " + note.Title)
	n.list.Prepend(item, maxRows)
	n.shown = slices.Insert(n.shown, 0, note.ID)
	if !note.Read {
		n.unread[note.ID] = true
	}
	for len(n.shown) > maxRows {
		delete(n.unread, n.shown[len(n.shown)-1])
		n.shown = n.shown[:len(n.shown)-1]
	}
	if note.Toast() {
		toast := n.page.Clone("toast")
		fill(toast, text)
		n.toasts.Insert(toast, nil)
		time.AfterFunc(toastTime, func() { n.loop.Post(toast.Remove) })
		if p := n.card.panel; p != nil {
			n.say(p.noteNews(n.user, note))
		}
	}
}

func (n *notifyPane) Unread(count int) {
	s := strconv.Itoa(count)
	n.count.SetText(s)
	n.badge.SetData("count", s)
	if p := n.card.panel; p != nil {
		n.say(p.unreadNews(n.user, count))
	}
}

// MarkedRead shows the notifications as read, which hides their Mark
// read buttons. The focus, if it was on one of them, goes to the nearest
// unread one's button below it, or above it, or else to the pane's
// summary.
func (n *notifyPane) MarkedRead(ids []string) {
	var lost bool
	for _, id := range ids {
		delete(n.unread, id)
		if item := n.list.Find("id", id); item != nil {
			lost = lost || item.Slot("mark").HasFocus()
			item.SetClass("")
		}
	}
	if lost {
		n.refocus(ids)
	}
}

// refocus moves the focus from the button of one of ids, which went away,
// to the nearest unread item's button, or else to the summary.
func (n *notifyPane) refocus(ids []string) {
	from := len(n.shown)
	for i, id := range n.shown {
		if slices.Contains(ids, id) {
			from = i
			break
		}
	}
	next := func(i int) bool {
		if i < 0 || i >= len(n.shown) || !n.unread[n.shown[i]] {
			return false
		}
		item := n.list.Find("id", n.shown[i])
		if item == nil {
			return false
		}
		item.Slot("mark").Focus()
		return true
	}
	for d := 1; d <= len(n.shown); d++ {
		if next(from+d) || next(from-d) {
			return
		}
	}
	n.root.Slot("summary").Focus()
}

func (n *notifyPane) Poked(to string) { n.status.SetText(app.PokedStatus(to)) }

func (n *notifyPane) NotifyError(msg string) { n.status.SetText(msg) }
