package main

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A chat card's listeners are js.Funcs, which the Go client must release:
// each one left alive keeps the card's closures, and what they reach,
// for as long as the page is open. The client keeps the count of js.Funcs
// made and not released in the body's data-live-funcs. Adding a card
// raises it; removing the card brings it back to where it was.
func TestBrowserRemovedChatCardReleasesItsFuncs(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	// settled waits until the user's card and its notifications are
	// connected: no login or other fetch of the card is under way, so
	// the count holds only what lasts.
	settled := func(user string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
			const c = document.querySelector('#chat-clients article[data-user=%q]');
			return !!c && c.querySelector('.state').dataset.state === 'connected' &&
				c.querySelector('.notes .detail').textContent === 'notifications: connected';
		})()`, user))
	}
	live := func() int {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.liveFuncs`))
		require.NoError(t, err)
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "data-live-funcs = %q", s)
		return n
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(`#echo-state[data-state="connected"]`),
		waitFor(`#dash-state[data-state="connected"]`),
		settled("ada"),
		settled("bob"),
	))
	before := live()
	require.Positive(t, before, "the page's own controls listen")

	const cy = `#chat-clients article[data-user="cy"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#chat-add-user"), "cy"),
		press("#chat-add-button"),
		settled("cy"),
	))
	withCard := live()
	require.Greater(t, withCard, before, "the card listens to its controls")

	require.NoError(t, chromedp.Do(ctx,
		press(cy+" .close"),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+cy+`') === null`),
	))
	eventually(t, "the count to return", func() bool { return live() == before },
		func() string {
			return fmt.Sprintf("%d js.Funcs live, %d before the card, %d with it", live(), before, withCard)
		})
	assert.Equal(t, before, live())
}
