// Command wasmclient is the playground page's client, built with
// GOOS=js GOARCH=wasm and loaded by site/main.js. Package app holds its
// state and makes every decision; package dom shows them in the page's
// <template>s. This is the wiring.
package main

import (
	"context"
	"time"

	"wsplay/shared"
	"wsplay/wasmclient/app"
	"wsplay/wasmclient/dom"
)

func main() {
	page, pageURL := dom.Browser(), dom.Location()
	page.Stamp("goMainMs") // the stamps time a cold load: scripts/pageload
	urls, err := app.SocketsOf(pageURL)
	if err != nil {
		dom.Started(page, err)
		return
	}
	// ?heartbeat=2s in the page's URL shortens every socket's heartbeat.
	beat, err := app.HeartbeatOf(pageURL)
	if err != nil {
		dom.Started(page, err)
		return
	}
	// Each tab has names of its own (site/main.js), so a room of learners
	// needs no configuration; ?users=ada,bob in the address picks them.
	card1, card2, visitor := dom.Names()
	loop := app.NewLoop()
	echo := dom.Echo(page, loop, urls.Echo)
	dash := dom.Dashboard(page, loop, urls.Dashboard)
	dash.Heartbeat = beat
	addCard := dom.Cards(page, loop, pageURL, dom.Post)
	dom.Started(page, nil)
	// Redraw five times a second, so the charts scroll smoothly between
	// snapshots; requests coalesce when the loop is busy, and browsers
	// slow this timer down in a background tab.
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			dash.RequestRedraw()
		}
	}()
	// Echo and the dashboard have no user of their own: with
	// -require-auth, the cookie a login sets is their token. So they
	// connect once a login has been tried (a failed one changes nothing:
	// without -require-auth they need no token). main.js starts that
	// login as the page loads; only without it does this one log in.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if !dom.LoaderLogin(ctx) {
			if tokens, err := app.NewTokens(pageURL, visitor, dom.Post); err == nil {
				tokens.Token(ctx)
			}
		}
		page.Stamp("loginDoneMs")
		loop.Post(echo.Start)
		loop.Post(dash.Connect)
		// Two clients to start with, so that the page shows a
		// conversation: once echo's first dial is over (or has taken a
		// second), as setting up two cards holds the loop for about
		// 100 ms of a cold start, which echo's "connected" would wait
		// behind.
		select {
		case <-echo.FirstDial():
		case <-time.After(time.Second):
		}
		loop.Post(func() {
			addCard(card1, shared.DefaultRoom)
			addCard(card2, shared.DefaultRoom)
		})
	}()
	// The page owns this program's lifetime: the loop runs until the tab
	// goes away, so the page's own listeners stay valid.
	loop.Run(context.Background())
}
