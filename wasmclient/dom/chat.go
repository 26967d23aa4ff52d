package dom

import "wsplay/wasmclient/app"

// Cards wires the chat panel's form that adds virtual clients, and
// returns the function it calls, which must run on the loop: it adds a
// card for user in room on the server that served pageURL, logging in
// with post, and starts it, or says on the page why it cannot.
func Cards(page Page, loop *app.Loop, pageURL string, post app.Poster) (add func(user, room string)) {
	problem := page.ByID("chat-add-error")
	add = func(user, room string) {
		v := newChatCard(page)
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
	return add
}

// chatCard shows one virtual client, a copy of the chat-card template:
// its chat, and its notification centre in notes. Its controls post to
// the card's clients on the loop, until close.
type chatCard struct {
	page                            Page
	root, state, detail, transcript Element
	notes                           *notifyPane
	listeners                       listeners
}

// newChatCard copies the template; open puts it in the page.
func newChatCard(page Page) *chatCard {
	root := page.Clone("chat-card")
	return &chatCard{page: page, root: root, state: root.Slot("state"), detail: root.Slot("detail"),
		transcript: root.Slot("transcript"), notes: newNotifyPane(page, root)}
}

// open labels the card for card, listens to its controls and adds it to
// the page.
func (v *chatCard) open(loop *app.Loop, card *app.Card) {
	v.root.SetData("user", card.Chat.User)
	v.root.Slot("title").SetText(card.Title())
	input := v.root.Slot("input")
	input.SetPlaceholder(card.Prompt())
	v.listeners.on(v.root.Slot("send"), "submit", func(e Event) {
		e.PreventDefault()
		text := input.Value()
		input.SetValue("")
		loop.Post(func() { card.Send(text) })
	})
	v.listeners.on(input, "input", func(Event) { loop.Post(card.Chat.Typing) })
	v.listeners.on(v.root.Slot("close"), "click", func(Event) {
		loop.Post(func() {
			card.Stop()
			v.close()
		})
	})
	v.notes.open(loop, card)
	v.page.ByID("chat-clients").Insert(v.root, nil)
}

// close takes the card out of the page and releases its listeners.
func (v *chatCard) close() {
	v.listeners.close()
	v.notes.close()
	v.root.Remove()
}

func (v *chatCard) ChatState(s app.ConnState, detail string) {
	showState(v.state, s)
	v.detail.SetText(detail)
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

func (v *chatCard) ChatError(msg string) { v.detail.SetText(msg) }
