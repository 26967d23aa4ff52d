package dom

import (
	"slices"
	"strconv"

	"wsplay/shared"
	"wsplay/wasmclient/app"
)

// Cards wires the chat panel's form that adds virtual clients, and
// returns the function it calls, which must run on the loop: it adds a
// card for user in room on the server that served pageURL, logging in
// with post, and starts it, or says on the page why it cannot.
func Cards(page Page, loop *app.Loop, pageURL string, post app.Poster) (add func(user, room string)) {
	_, add = cards(page, loop, pageURL, post)
	return add
}

// cards is Cards, and returns the panel too, for tests.
func cards(page Page, loop *app.Loop, pageURL string, post app.Poster) (panel *chatPanel, add func(user, room string)) {
	problem := page.ByID("chat-add-error")
	panel = &chatPanel{page: page, clients: page.ByID("chat-clients"), chat: page.ByID("announce-chat"),
		notes: page.ByID("announce-notes"), status: page.ByID("announce-status"), addUser: page.ByID("chat-add-user")}
	add = func(user, room string) {
		v := newChatCard(page)
		v.panel = panel
		card, err := app.NewCard(loop, pageURL, user, room, post, v, v.notes)
		if err != nil {
			problem.SetText(err.Error())
			return
		}
		problem.SetText("")
		v.open(loop, card)
		card.Start()
	}
	page.ByID("chat-add").On("submit", func(e Event) {
		e.PreventDefault()
		user, room := page.ByID("chat-add-user").Value(), page.ByID("chat-add-room").Value()
		loop.Post(func() { add(user, room) })
	})
	page.ByID("chat-add-button").SetDisabled(false)
	return panel, add
}

// chatPanel is what the cards share: the page's list of cards, and the
// live regions with what the cards have told them, so that a message two
// cards show, or a count two tabs of a user show, is read out once.
type chatPanel struct {
	page                Page
	clients, addUser    Element
	chat, notes, status Element // live regions
	cards               []*chatCard
	messages, notesTold recent
	unread              map[string]int // user → the count last read out
}

// chatNews is what a screen reader says of a line a card shows: a
// message, as "bob in general: hi", once however many cards of the room
// show it, and never for what a history brought or for a line the server
// has not stored yet.
func (p *chatPanel) chatNews(room string, l app.ChatLine) string {
	if l.Kind != shared.TypeText || l.Pending || l.History {
		return ""
	}
	key := room + "\x00" + strconv.FormatUint(l.Seq, 10) + "\x00" + l.Username + "\x00" + l.Content
	if !p.messages.add(key) {
		return ""
	}
	return l.Username + " in " + room + ": " + clip(l.Content)
}

// noteNews is what a screen reader says of a notification a card of user
// shows: a new unread one, once however many tabs of the user show it.
func (p *chatPanel) noteNews(user string, n app.Note) string {
	if !n.Toast() || !p.notesTold.add(user+"\x00"+n.ID) {
		return ""
	}
	return user + ": new notification: " + clip(n.Title+" — "+n.Text())
}

// unreadNews is what a screen reader says of user's unread count: a
// change, once however many tabs of the user show it. Nothing is said
// of no unread notifications to begin with.
func (p *chatPanel) unreadNews(user string, count int) string {
	if p.unread == nil {
		p.unread = map[string]int{}
	}
	if p.unread[user] == count {
		return ""
	}
	p.unread[user] = count
	switch count {
	case 0:
		return user + ": no unread notifications"
	case 1:
		return user + ": 1 unread notification"
	}
	return user + ": " + strconv.Itoa(count) + " unread notifications"
}

// recent is a set of the latest keys, at most maxRecent: enough to know
// what the cards have just told, bounded however long the page is open.
type recent struct {
	keys []string // oldest first
}

const maxRecent = 256

// add adds key, and says whether it is new.
func (r *recent) add(key string) bool {
	if slices.Contains(r.keys, key) {
		return false
	}
	if len(r.keys) == maxRecent {
		r.keys = slices.Delete(r.keys, 0, 1)
	}
	r.keys = append(r.keys, key)
	return true
}

// clip bounds what a screen reader reads out of a text.
func clip(s string) string {
	if r := []rune(s); len(r) > maxNewsData {
		return string(r[:maxNewsData]) + "…"
	}
	return s
}

// chatCard shows one virtual client, a copy of the chat-card template:
// its chat, and its notification centre in notes. Its controls post to
// the card's clients on the loop, until close.
type chatCard struct {
	page                            Page
	panel                           *chatPanel // from Cards; nil in tests of a card alone
	root, state, detail, transcript Element
	notes                           *notifyPane
	listeners                       listeners
	room                            string
	news                            *stateNews
}

// newChatCard copies the template; open puts it in the page.
func newChatCard(page Page) *chatCard {
	root := page.Clone("chat-card")
	v := &chatCard{page: page, root: root, state: root.Slot("state"), detail: root.Slot("detail"),
		transcript: root.Slot("transcript"), news: &stateNews{}}
	v.notes = newNotifyPane(page, root, v)
	return v
}

// open labels the card for card, listens to its controls and adds it to
// the page.
func (v *chatCard) open(loop *app.Loop, card *app.Card) {
	title, user := card.Title(), card.Chat.User
	v.room, v.news.name = card.Chat.Room, title
	v.root.SetData("user", user)
	v.root.SetLabel(title)
	v.root.Slot("title").SetText(title)
	v.transcript.SetLabel("Messages of " + title)
	close := v.root.Slot("close")
	close.SetLabel("Remove " + title)
	v.root.Slot("send-button").SetLabel("Send as " + user)
	input := v.root.Slot("input")
	input.SetPlaceholder(card.Prompt())
	input.SetLabel(card.Prompt())
	v.listeners.on(v.root.Slot("send"), "submit", func(e Event) {
		e.PreventDefault()
		text := input.Value()
		loop.Post(func() {
			// Cleared only once taken, and only if not typed on since:
			// a refused message stays, with the reason beside it.
			if card.Send(text) && input.Value() == text {
				input.SetValue("")
			}
		})
	})
	v.listeners.on(input, "input", func(Event) { loop.Post(card.Chat.Typing) })
	v.listeners.on(close, "click", func(Event) {
		loop.Post(func() {
			card.Stop()
			v.close()
		})
	})
	card.Chat.Inspect = inspector(v.page, v.root, title, loop, card.Chat.Raw, &v.listeners)
	v.notes.open(loop, card)
	v.page.ByID("chat-clients").Insert(v.root, nil)
	if v.panel != nil {
		v.panel.cards = append(v.panel.cards, v)
	}
}

// close takes the card out of the page and releases its listeners. The
// focus, if it was in the card, goes to the next card's ×, or the one
// before, or with no card left to the form that adds one.
func (v *chatCard) close() {
	v.listeners.close()
	v.notes.close()
	if p := v.panel; p != nil {
		i := slices.Index(p.cards, v)
		if i >= 0 {
			p.cards = slices.Delete(p.cards, i, i+1)
		}
		if v.root.HasFocus() {
			switch {
			case i >= 0 && i < len(p.cards):
				p.cards[i].root.Slot("close").Focus()
			case len(p.cards) > 0:
				p.cards[len(p.cards)-1].root.Slot("close").Focus()
			default:
				p.addUser.Focus()
			}
		}
	}
	v.root.Remove()
}

func (v *chatCard) ChatState(s app.ConnState, detail string) {
	showState(v.state, s)
	v.detail.SetText(detail)
	if news := v.news.say(s); v.panel != nil {
		announce(v.page, v.panel.status, news)
	}
}

func (v *chatCard) ChatShow(l app.ChatLine, before string) {
	r := l.Row()
	li := v.transcript.Find("key", r.Key)
	shown := li != nil
	if !shown {
		li = v.page.Clone("chat-line")
	}
	li.SetClass(r.Class)
	li.SetData("key", r.Key)
	li.SetData("kind", r.Kind)
	li.SetData("seq", r.Seq)
	fill(li, map[string]string{"time": r.Time, "who": r.Who, "content": r.Text})
	var next Element
	if before != "" {
		next = v.transcript.Find("key", before)
	}
	v.transcript.Insert(li, next)
	if !shown {
		v.transcript.ScrollToEnd()
	}
	if v.panel != nil {
		announce(v.page, v.panel.chat, v.panel.chatNews(v.room, l))
	}
}

func (v *chatCard) ChatDrop(key string) {
	if li := v.transcript.Find("key", key); li != nil {
		li.Remove()
	}
}

func (v *chatCard) ChatUsers(users app.Presence) {
	v.root.SetData("users", users.List())
	v.root.Slot("heading").SetText(users.Heading())
	names := v.root.Slot("users")
	names.Clear()
	for _, u := range users {
		b := v.page.Clone("room-user")
		b.SetText(u)
		names.Insert(b, nil)
	}
}

func (v *chatCard) ChatTyping(users app.Typing) { v.root.Slot("typing").SetText(users.String()) }

func (v *chatCard) ChatError(msg string) { v.root.Slot("error").SetText(msg) }
