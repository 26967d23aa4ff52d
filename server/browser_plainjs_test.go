package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The page's plain JavaScript client and a Go card talk in one room: each
// shows what the other said, through nothing but the protocol.
func TestBrowserPlainJavaScriptClientTalksToAGoCard(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)

	const card = `#chat-clients article.card:first-of-type`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		waitFor(card+`[data-users]`),
		press("#plain-connect"),
		waitFor(`#plain-state[data-state="connected"]`),
		waitFor(`#plain-log li[data-kind="users"]`),
	))
	jsUser, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("wsplay-plain-user")`))
	require.NoError(t, err)
	require.NotEmpty(t, jsUser)

	// JavaScript → Go.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#plain-input"), "hello from JavaScript"),
		press(`#plain-form button`),
		waitForText(card+` li.text:last-child .content`, "hello from JavaScript"),
	))
	assert.Equal(t, jsUser, text(t, ctx, card+` li.text:last-child .who`))

	// Go → JavaScript.
	goUser := attr(t, ctx, card, "data-user")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(card+" form input"), "hello from Go"),
		press(card+" form button"),
		waitForText(`#plain-log li[data-kind="text"]:last-child`, goUser+": hello from Go"),
	))

	// Its own code is on the page, and a frame it cannot use is answered
	// with the protocol's error, which it shows.
	source, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("plain-source").textContent`))
	require.NoError(t, err)
	assert.Contains(t, source, "new WebSocket(")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("plain-input").value = "x".repeat(20000)`),
		press(`#plain-form button`),
		waitFor(`#plain-log li[data-kind="error"]`),
	))
	assert.Contains(t, text(t, ctx, `#plain-log li[data-kind="error"]`), "too_large")
	assert.Equal(t, "connected", attr(t, ctx, "#plain-state", "data-state"))
}
