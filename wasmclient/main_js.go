// Command wasmclient is the playground page's client, built with
// GOOS=js GOARCH=wasm and loaded by site/main.js. It wires the page's
// elements to package app, which holds all of the logic; this file and
// dom_js.go are the only ones that touch syscall/js.
package main

import (
	"context"
	"errors"
	"time"

	"wsplay/shared"
	"wsplay/wasmclient/app"
)

// report shows err, if any, in the notification pane.
func report(n *app.Notifications, err error) {
	if err != nil {
		n.View().NotifyError(err.Error())
	}
}

func main() {
	p := newPage()
	loop := app.NewLoop()

	urls, err := app.SocketsOf(p.location())
	if err != nil {
		p.fail("cannot derive the socket URLs: " + err.Error())
		return
	}
	echo := app.NewEcho(loop, echoView{p}, urls.Echo)
	p.setText("echo-url", urls.Echo)
	p.on("echo-connect", "click", func(event) { loop.Post(echo.Toggle) })
	p.on("echo-form", "submit", func(e event) {
		e.preventDefault() // the page must not navigate
		mode, input := app.Mode(p.value("echo-mode")), p.value("echo-input")
		loop.Post(func() { echo.Send(mode, input) })
	})

	addChat := func(user, room string) {
		if err := errors.Join(shared.ValidateName("username", user), shared.ValidateName("room name", room)); err != nil {
			p.setText("chat-add-error", err.Error())
			return
		}
		p.setText("chat-add-error", "")
		var (
			c *app.Chat
			n *app.Notifications
		)
		card := newChatCard(p, user, room,
			func(text string) {
				loop.Post(func() {
					if err := c.Send(text); err != nil {
						c.View().ChatError(err.Error())
					}
				})
			},
			func() { loop.Post(c.Typing) },
			func(card *chatCard) func() {
				return func() { loop.Post(func() { c.Stop(); n.Stop(); card.remove() }) }
			},
		)
		pane := newNotifyPane(p, card,
			func(id string) { loop.Post(func() { report(n, n.MarkRead(id)) }) },
			func() { loop.Post(func() { report(n, n.MarkAllRead()) }) },
			func(to, message string) { loop.Post(func() { report(n, n.Poke(to, "poke", message)) }) },
		)
		c, _ = app.NewChat(loop, card, urls.Chat, room, user) // names checked above
		n, _ = app.NewNotifications(loop, pane, urls.Notifications, user)
		// Each virtual client logs in as itself and sends its token with
		// every connection, as the server asks with -require-auth.
		tokens, _ := app.NewTokens(p.location(), user, fetchPost)
		c.Tokens, n.Tokens = tokens, tokens
		c.Start()
		n.Start()
	}
	p.on("chat-add", "submit", func(e event) {
		e.preventDefault()
		user, room := p.value("chat-add-user"), p.value("chat-add-room")
		loop.Post(func() { addChat(user, room) })
	})
	p.byID("chat-add-button").Set("disabled", false)

	dash := app.NewDashboard(loop, newDashboardView(p), urls.Dashboard)
	p.setText("dash-url", urls.Dashboard)
	var intervals [][2]string
	for _, c := range app.IntervalChoices() {
		intervals = append(intervals, [2]string{c.Value, c.Label})
	}
	p.fillSelect("dash-interval", intervals)
	p.on("dash-connect", "click", func(event) { loop.Post(dash.Toggle) })
	p.on("dash-interval", "change", func(event) {
		value := p.value("dash-interval")
		loop.Post(func() { dash.ChooseInterval(value) })
	})
	// Redraw five times a second, so the charts scroll smoothly between
	// snapshots; requests coalesce when the loop is busy, and browsers
	// slow this timer down in a background tab.
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			dash.RequestRedraw()
		}
	}()

	p.running()
	// Two clients to start with, so that the page shows a conversation.
	loop.Post(func() {
		addChat("ada", shared.DefaultRoom)
		addChat("bob", shared.DefaultRoom)
	})
	// Echo and the dashboard have no user of their own: with
	// -require-auth, the cookie a login sets is their token. So they
	// connect once a login has been tried (a failed one changes nothing:
	// without -require-auth they need no token).
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if tokens, err := app.NewTokens(p.location(), "ada", fetchPost); err == nil {
			tokens.Token(ctx)
		}
		loop.Post(echo.Connect)
		loop.Post(dash.Connect)
	}()
	// The page owns this program's lifetime: the loop runs until the tab
	// goes away, so every callback above stays valid.
	loop.Run(context.Background())
}
