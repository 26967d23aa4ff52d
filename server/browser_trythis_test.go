package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
)

// "Try this" ticks each item when the page shows it happened, by doing
// them as a learner would: a frame in echo, a second card of one user,
// the plain JavaScript client, a server stop and start. The ticks stay
// across a reload of the tab.
func TestBrowserTryThisTicksWhatWasDone(t *testing.T) {
	cfg := testConfig(t)
	site := buildSite(t)
	first := startServerWithSite(t, cfg, site)
	ctx := newBrowser(t)
	done := func(id string) chromedp.Action[chromedp.Void] {
		return waitFor(`#try-list li[data-try="` + id + `"][data-done]`)
	}
	const card = `#chat-clients article.card:first-of-type`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(first.URL),
		waitFor(`#echo-state[data-state="connected"]`),
		waitFor(card+`[data-users]`),
	))
	assert.Equal(t, "0 of 8 done", text(t, ctx, "#try-count"))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#echo-input"), "hi"),
		press("#echo-send"),
		done("echo"),
	))
	user := attr(t, ctx, card, "data-user")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#chat-add-user"), user),
		press("#chat-add-button"),
		done("same-user"),
		press("#plain-connect"),
		waitFor(`#plain-state[data-state="connected"]`),
		chromedp.SendKeys(chromedp.CSS("#plain-input"), "from js"),
		press(`#plain-form button`),
		done("plain"),
	))

	require.NoError(t, first.Close())
	addr := strings.TrimPrefix(first.URL, "http://")
	release := servertest.HoldAddress(t, addr)
	require.NoError(t, chromedp.Do(ctx, waitFor(card+` .state[data-state="disconnected"]`)))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#try-list li[data-try="restart"][data-done]').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "the restart is done only once the cards are back")
	release()
	startServerAt(t, cfg, site, addr)
	require.NoError(t, chromedp.Do(ctx, done("restart")))
	assert.Equal(t, "4 of 8 done", text(t, ctx, "#try-count"))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Reload(),
		waitFor(`#try-list li[data-try="restart"][data-done]`),
	))
	assert.Equal(t, "4 of 8 done", text(t, ctx, "#try-count"))
}
