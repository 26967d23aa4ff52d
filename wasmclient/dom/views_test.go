package dom

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
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
	assert.Equal(t, "•", newest.slotText("dir"))
	assert.Equal(t, fmt.Sprintf("%d %s", want.Code, want.Meaning), newest.slotText("data"))
	assert.Equal(t, "hello 200", log.children[1].slotText("data"))
	assert.Equal(t, "200 B", log.children[1].slotText("size"))
	assert.Equal(t, "hello 2", log.children[maxRows-1].slotText("data"), "hello 0 and 1 went")

	v.EchoState(app.Connecting)
	v.EchoState(app.Connected)
	v.EchoState(app.Connecting)
	v.EchoState(app.Connected)
	assert.Equal(t, "connected", page.byID("echo-state").data["state"])
	assert.Equal(t, "Disconnect", page.byID("echo-connect").text)
	assert.Equal(t, false, page.byID("echo-send").props["disabled"])
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
	assert.Equal(t, base+6, page.listeners, "send, typing, ×, mark all read, poke, and mark read")

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
	assert.Equal(t, "1", badge.text)
	assert.Equal(t, "1", badge.data["count"])

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
