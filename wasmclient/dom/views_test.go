package dom

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"io/fs"
	"regexp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
	"wsplay/site"
	"wsplay/wasmclient/app"
)

// runLoop runs a loop until the test ends.
func runLoop(t *testing.T) *app.Loop {
	loop := app.NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return loop
}

// onLoop runs fn on the loop and waits for it, and for what it posted.
func onLoop(loop *app.Loop, fn func()) {
	done := make(chan struct{})
	loop.Post(func() {
		fn()
		loop.Post(func() { close(done) }) // after what fn posted
	})
	<-done
}

// noServer is a Poster with no server behind it.
func noServer(context.Context, string, []byte) (int, []byte, error) {
	return 0, nil, errors.New("no server in this test")
}

func TestEchoViewFillsTheTemplate(t *testing.T) {
	page := newFakePage(t)
	v := newEchoView(page)
	log := page.byID("echo-log")
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for i := range maxRows + 1 {
		v.EchoLog(app.LogEntry{Time: at, Dir: app.Sent, Kind: "text", Size: i, Text: fmt.Sprint("hello ", i)})
	}
	close := app.CloseInfo{Code: shared.CloseNormal, CloseAdvice: shared.DescribeClose(shared.CloseNormal)}
	v.EchoLog(app.LogEntry{Time: at, Dir: app.Event, Kind: "close", Close: &close})

	require.Len(t, log.children, maxRows, "the oldest rows go")
	newest, want := log.children[0], close
	assert.Equal(t, map[string]string{"dir": "event", "kind": "close"}, newest.data)
	assert.Equal(t, "event", newest.slotText("dir"))
	assert.Equal(t, fmt.Sprintf("%d %s", want.Code, want.Meaning), newest.slotText("data"))
	assert.Equal(t, "hello 200", log.children[1].slotText("data"))
	assert.Equal(t, "200 B", log.children[1].slotText("size"))
	assert.Equal(t, "hello 2", log.children[maxRows-1].slotText("data"), "hello 0 and 1 went")

	v.EchoState(app.Connecting)
	frames := page.byID("announce-echo")
	require.Len(t, frames.children, maxAnnouncements, "what was read out goes")
	assert.Equal(t, fmt.Sprintf("event close: %d %s", want.Code, want.Meaning), frames.children[0].text)
	assert.Equal(t, "sent text, 200 B: hello 200", frames.children[1].text)

	v.EchoState(app.Connected)
	v.EchoState(app.Connecting)
	v.EchoState(app.Connected)
	assert.Equal(t, []string{"Echo: connected"}, texts(page.byID("announce-status")), "once")
	assert.Equal(t, "connected", page.byID("echo-state").data["state"])
	assert.Equal(t, "Disconnect", page.byID("echo-connect").text)
	v.EchoState(app.Disconnected)
	assert.NotEqual(t, true, page.byID("echo-send").props["disabled"], "Enter while disconnected says why nothing went")
	assert.Equal(t, []string{"echoDialMs", "echoConnectedMs"}, page.stamps, "the first connection is timed")
}

// A card adds its listeners when it is opened and removes every one when
// its × is pressed, and leaves the page.
func TestChatCardRemovesItsListenersWhenClosed(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	var add func(user, room string)
	onLoop(loop, func() { add = Cards(page, loop, "http://127.0.0.1:1/", noServer) })
	base := page.listeners
	clients := page.byID("chat-clients")

	onLoop(loop, func() { add("ada", "general") })
	require.Len(t, clients.children, 1)
	card := clients.children[0]
	assert.Equal(t, "ada", card.data["user"])
	assert.Equal(t, "ada @ general", card.slotText("title"))
	assert.Equal(t, base+8, page.listeners, "send, typing, ×, mark all read, poke, mark read, and the raw send of the chat and of the notifications")

	onLoop(loop, func() { card.Slot("close").(*fakeElement).fire("click", &fakeEvent{}) })
	assert.Empty(t, clients.children, "the card left the page")
	assert.Equal(t, base, page.listeners, "every listener of the card was removed")
	for _, l := range card.walkAll() {
		for event, fns := range l.on {
			assert.Empty(t, fns, "%s still listens to %s", l.name, event)
		}
	}
}

func TestCardsShowWhyACardCannotBeAdded(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	onLoop(loop, func() {
		Cards(page, loop, "http://127.0.0.1:1/", noServer)("<b>", "../x")
	})
	problem := page.byID("chat-add-error").text
	assert.Contains(t, problem, "username")
	assert.Contains(t, problem, "room name")
	assert.Empty(t, page.byID("chat-clients").children)
	assert.Equal(t, 1, page.listeners, "only the add form's")
}

// The card shows lines where the client says: a new one last, a stored one
// moved before the line it names, and drops what the client drops.
func TestChatCardPlacesLinesWhereTheClientSays(t *testing.T) {
	page := newFakePage(t)
	v := newChatCard(page)
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.Local)
	mine := app.ChatLine{Key: "l1", Kind: shared.TypeText, Username: "ada", Content: "mine", Time: at, Own: true, Pending: true}
	bob := app.ChatLine{Key: "l2", Kind: shared.TypeText, Username: "bob", Content: "<i>hi</i>", Time: at, Seq: 1}
	join := app.ChatLine{Key: "l3", Kind: shared.TypeJoin, Username: "cy", Time: at}
	for _, l := range []app.ChatLine{mine, bob, join} {
		v.ChatShow(l, "")
	}
	lines := v.transcript.(*fakeElement)
	assert.Equal(t, []string{"l1", "l2", "l3"}, lines.keys())
	assert.Equal(t, "text own pending", lines.children[0].class)
	assert.NotContains(t, lines.children[0].data, "seq", "not stored yet")

	mine.Pending, mine.Seq = false, 2
	v.ChatShow(mine, "l3")
	assert.Equal(t, []string{"l2", "l1", "l3"}, lines.keys())
	stored := lines.children[1]
	assert.Equal(t, "text own", stored.class)
	assert.Equal(t, "2", stored.data["seq"])
	assert.Equal(t, "10:00:00", stored.slotText("time"))
	assert.Equal(t, "mine", stored.slotText("content"))
	assert.Equal(t, "<i>hi</i>", lines.children[0].slotText("content"), "as text")
	assert.Equal(t, "cy joined", lines.children[2].slotText("content"))
	assert.Equal(t, "", lines.children[2].slotText("who"))

	v.ChatDrop("l2")
	assert.Equal(t, []string{"l1", "l3"}, lines.keys())

	v.ChatUsers(app.Presence{"ada", "bob"})
	root := v.root.(*fakeElement)
	assert.Equal(t, "ada,bob", root.data["users"])
	assert.Equal(t, "In the room (2): ", root.slotText("heading"))
	names := root.Slot("users").(*fakeElement)
	require.Len(t, names.children, 2)
	assert.Equal(t, "bob", names.children[1].text)
	v.ChatTyping(app.Typing{"bob"})
	assert.Equal(t, "bob is typing…", root.slotText("typing"))
}

func TestNotifyPaneListsToastsAndMarks(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	var v *chatCard
	onLoop(loop, func() {
		v = newChatCard(page)
		card, err := app.NewCard(loop, "http://127.0.0.1:1/", "ada", "general", noServer, v, v.notes)
		require.NoError(t, err)
		v.open(loop, card) // not started: the pane says why a mark cannot be sent
	})
	n := v.notes
	onLoop(loop, func() {
		n.Notify(app.Note{Notification: shared.Notification{ID: "n1", Title: "Stored", Message: "old", Read: true}})
		n.Notify(app.Note{Notification: shared.Notification{ID: "n2", Title: "Order", Message: "shipped", From: "shop"}, Live: true})
		n.Unread(1)
	})
	list := n.list.(*fakeElement)
	require.Len(t, list.children, 2)
	item := list.children[0]
	assert.Equal(t, "n2", item.data["id"])
	assert.Equal(t, "unread", item.class)
	assert.Equal(t, "shipped — from shop", item.slotText("text"))
	assert.Equal(t, "", list.children[1].class, "read already")
	toasts := n.toasts.(*fakeElement)
	require.Len(t, toasts.children, 1, "a toast for the live unread one only")
	assert.Equal(t, "Order", toasts.children[0].slotText("title"))
	badge := n.badge.(*fakeElement)
	assert.Equal(t, "1", n.count.Text())
	assert.Equal(t, "1", badge.data["count"])
	assert.Equal(t, "Mark read: Order", item.Slot("mark").(*fakeElement).label())

	// Pressing an item's button is heard by the list (event delegation).
	mark := item.Slot("mark").(*fakeElement)
	onLoop(loop, func() { list.fire("click", &fakeEvent{target: mark.data}) })
	assert.Contains(t, n.status.Text(), "not connected", "the mark was tried, and could not be sent")
	onLoop(loop, func() { n.MarkedRead([]string{"n2"}) })
	assert.Equal(t, "", item.class)
}

func TestDashboardViewMakesEachBoxAndChartOnce(t *testing.T) {
	page := newFakePage(t)
	v := newDashboardView(page)
	for _, text := range []string{"1", "2"} {
		v.DashboardValues([]app.Value{{Key: shared.MetricConnections, Label: "Connections", Text: text}})
	}
	values := page.byID("dash-values")
	require.Len(t, values.children, 1)
	assert.Equal(t, "Connections", values.children[0].slotText("label"))
	assert.Equal(t, "2", values.children[0].slotText("value"))

	p := app.Plot{ID: "c", Title: "Chart", Width: 440, Height: 150, Left: 44, Right: 432, Bottom: 132, Points: 2,
		Lines:  []app.PlotLine{{Label: "all", Color: "#123456", Current: "4", Segments: [][]app.XY{{{X: 44, Y: 10}, {X: 432, Y: 10}}}}},
		YTicks: []app.Tick{{Pos: 132, Label: "0"}}}
	v.DashboardPlots([]app.Plot{p})
	v.DashboardPlots([]app.Plot{p})
	charts := page.byID("dash-charts")
	require.Len(t, charts.children, 1)
	fig := charts.children[0]
	assert.Equal(t, "Chart", fig.slotText("title"))
	canvas := fig.Slot("canvas").(*fakeElement)
	assert.Equal(t, "2", canvas.data["points"])
	assert.Equal(t, len(p.Strokes()), canvas.canvas.strokes)
	assert.Equal(t, len(p.Labels()), canvas.canvas.texts)
	item := fig.Slot("legend").(*fakeElement).children[0]
	assert.Equal(t, "#123456", item.Slot("swatch").(*fakeElement).style["background"])
	assert.Equal(t, "4", item.slotText("value"))
	assert.Equal(t, "Chart, latest: all 4", canvas.label(), "the chart's text alternative")
}

func TestStartedSaysSoOnThePage(t *testing.T) {
	page := newFakePage(t)
	runtime := page.byID("runtime")
	Started(page, nil)
	assert.Equal(t, "running", runtime.data["state"])
	Started(page, errors.New(`page URL "file:///index.html": want http or https`))
	assert.Equal(t, "error", runtime.data["state"])
	assert.Contains(t, runtime.text, "want http or https")
}

// texts returns the text of each child of e, in order: what a live
// region holds, newest first.
func texts(e *fakeElement) []string {
	var s []string
	for _, c := range e.children {
		s = append(s, c.text)
	}
	return s
}

// The dashboard tells a screen reader when it connects and when it loses
// the connection, not each attempt to reconnect.
func TestDashboardAnnouncesConnectionNewsOnly(t *testing.T) {
	page := newFakePage(t)
	v := newDashboardView(page)
	for _, s := range []app.ConnState{app.Disconnected, app.Connecting, app.Connected,
		app.Disconnected, app.Connecting, app.Disconnected, app.Connecting, app.Disconnected, app.Connecting, app.Connected} {
		v.DashboardState(s, "reconnecting in 1s (attempt 3)", true)
	}
	assert.Equal(t, []string{"Dashboard: connected", "Dashboard: disconnected", "Dashboard: connected"},
		texts(page.byID("announce-status")), "newest first")
}

// addCards adds a card for each user in room, as the page's form would,
// and returns the cards' views in order.
func addCards(t *testing.T, page *fakePage, loop *app.Loop, room string, users ...string) []*chatCard {
	t.Helper()
	var panel *chatPanel
	var add func(user, room string)
	onLoop(loop, func() { panel, add = cards(page, loop, "http://127.0.0.1:1/", noServer) })
	for _, u := range users {
		onLoop(loop, func() { add(u, room) })
	}
	var views []*chatCard
	onLoop(loop, func() { views = slices.Clone(panel.cards) })
	require.Len(t, views, len(users))
	return views
}

// A message every card of the room shows is read out once, as who said
// what where; what a history brought, and a line not stored yet, are not.
func TestChatAnnouncesEachMessageOnce(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	cards := addCards(t, page, loop, "general", "ada", "bob", "ada")
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.Local)
	old := app.ChatLine{Key: "l1", Kind: shared.TypeText, Username: "cy", Content: "before you came", Time: at, Seq: 1, History: true}
	hi := app.ChatLine{Key: "l2", Kind: shared.TypeText, Username: "bob", Content: "hi", Time: at, Seq: 2}
	mine := app.ChatLine{Key: "l3", Kind: shared.TypeText, Username: "ada", Content: "hello", Time: at, Own: true, Pending: true}
	onLoop(loop, func() {
		for _, c := range cards {
			c.ChatShow(old, "")
			c.ChatShow(hi, "")
		}
		cards[0].ChatShow(mine, "")
		mine.Pending, mine.Seq = false, 3
		cards[0].ChatShow(mine, "") // the server stored it
		cards[1].ChatShow(mine, "")
		cards[1].ChatShow(app.ChatLine{Key: "l4", Kind: shared.TypeJoin, Username: "dee", Time: at}, "")
	})
	assert.Equal(t, []string{"ada in general: hello", "bob in general: hi"}, texts(page.byID("announce-chat")))

	// Each card's controls are named with the card.
	root := cards[1].root.(*fakeElement)
	assert.Equal(t, "Remove bob @ general", root.Slot("close").(*fakeElement).label())
	assert.Equal(t, "Send as bob", root.Slot("send-button").(*fakeElement).label())
	assert.Equal(t, "Mark all read for bob", root.Slot("mark-all").(*fakeElement).label())
	assert.Equal(t, " of bob @ general", root.slotText("for"))
}

// A card's states are news as the echo's are; two tabs of a user hear of
// a new notification, and of the count, once.
func TestCardsAnnounceStatesAndNotificationsOnce(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	cards := addCards(t, page, loop, "general", "ada", "ada", "bob")
	note := app.Note{Notification: shared.Notification{ID: "n1", Title: "Order", Message: "shipped"}, Live: true}
	onLoop(loop, func() {
		cards[0].ChatState(app.Connecting, "")
		cards[0].ChatState(app.Connected, "")
		for _, c := range cards {
			c.notes.Unread(0)
		}
		for _, c := range cards[:2] {
			c.notes.Notify(note)
			c.notes.Unread(1)
		}
		cards[0].notes.Unread(2)
		cards[1].notes.Unread(2)
	})
	assert.Equal(t, []string{"ada @ general: connected"}, texts(page.byID("announce-status")))
	assert.Equal(t, []string{"ada: 2 unread notifications", "ada: 1 unread notification", "ada: new notification: Order — shipped"},
		texts(page.byID("announce-notes")), "nothing of bob's, who has none, nor of the second tab")
}

// Removing a card whose × has the focus gives the focus to the next
// card's ×, or to the one before, and with no card left to the form that
// adds one: never to the page's body.
func TestChatCardRemovedKeepsTheFocus(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	cards := addCards(t, page, loop, "general", "ada", "bob", "cy")
	closeOf := func(c *chatCard) *fakeElement { return c.root.Slot("close").(*fakeElement) }
	remove := func(c *chatCard) {
		onLoop(loop, func() {
			closeOf(c).Focus()
			closeOf(c).fire("click", &fakeEvent{})
		})
	}
	remove(cards[1])
	assert.Same(t, closeOf(cards[2]), page.focused, "bob's went: cy's is next")
	remove(cards[2])
	assert.Same(t, closeOf(cards[0]), page.focused, "cy's went: ada's was before it")
	remove(cards[0])
	assert.Same(t, page.byID("chat-add-user"), page.focused, "no card left")

	// A card removed while the focus is elsewhere leaves it there.
	cards = addCards(t, page, loop, "general", "dee", "eve")
	onLoop(loop, func() { page.byID("echo-input").Focus() })
	onLoop(loop, func() { closeOf(cards[0]).fire("click", &fakeEvent{}) })
	assert.Same(t, page.byID("echo-input"), page.focused)
}

// Marking a notification read hides its button; the focus, if it was
// there, goes to the nearest unread one's button, and with none left to
// the pane's summary.
func TestNotifyPaneMarkedReadKeepsTheFocus(t *testing.T) {
	page, loop := newFakePage(t), runLoop(t)
	cards := addCards(t, page, loop, "general", "ada")
	n := cards[0].notes
	onLoop(loop, func() {
		for _, id := range []string{"n1", "n2", "n3", "n4"} { // the list shows n4 first
			n.Notify(app.Note{Notification: shared.Notification{ID: id, Title: id, Read: id == "n1"}})
		}
	})
	mark := func(id string) *fakeElement { return n.list.Find("id", id).Slot("mark").(*fakeElement) }
	onLoop(loop, func() {
		mark("n3").Focus()
		n.MarkedRead([]string{"n3"})
	})
	assert.Same(t, mark("n2"), page.focused, "the one below; n1 below it is read")
	onLoop(loop, func() { n.MarkedRead([]string{"n2"}) })
	assert.Same(t, mark("n4"), page.focused, "none below: the one above")
	onLoop(loop, func() { n.MarkedRead([]string{"n4"}) })
	assert.Same(t, n.root.Slot("summary"), page.focused, "none left")
}

// The page's live regions are the four of #announce-*, one per purpose:
// no toast or transcript is one of its own, or a room's message would be
// read out once per card. A card's one is its error, beside its field:
// what the user of that card typed and cannot send. "Try this" has its
// count of items done.
func TestOneLiveRegionPerPurpose(t *testing.T) {
	html, err := fs.ReadFile(site.Files(), "index.html")
	require.NoError(t, err)
	live := regexp.MustCompile(`<[^>]*(aria-live|role="(log|status|alert)")[^>]*>`).FindAllString(string(html), -1)
	var regions []string
	for _, tag := range live {
		if m := idRE.FindStringSubmatch(tag); m != nil {
			regions = append(regions, m[1])
		} else {
			regions = append(regions, regexp.MustCompile(`data-slot="([^"]+)"`).FindStringSubmatch(tag)[1])
		}
	}
	assert.Equal(t, []string{"runtime", "try-count", "echo-error", "chat-add-error", "announce-echo", "announce-chat", "announce-status", "announce-notes", "error"}, regions)
}
