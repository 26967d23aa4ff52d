package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tried as a user would: paste a message far over the limit. It stays
// in the field, the reason is beside it, and the card stays connected;
// shortened, it goes, and the field empties.
func TestBrowserLongMessageStaysInTheField(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	const adaCard = `#chat-clients article[data-user="ada"]`
	long := strings.Repeat("x", 5000)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(adaCard+`[data-users="ada,bob"]`),
		chromedp.SetValue(chromedp.CSS(adaCard+" form input"), long),
		press(adaCard+" form button"),
		waitForText(adaCard+` [data-slot="error"]`, "too long: 5000 bytes; the limit is 4096"),
	))
	value, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(adaCard+" form input")))
	require.NoError(t, err)
	assert.Equal(t, long, value, "nothing typed is lost")
	assert.Equal(t, "alert", attr(t, ctx, adaCard+` [data-slot="error"]`, "role"))
	assert.Contains(t, text(t, ctx, adaCard+" .limit"), "4,096 bytes", "the field says the limit")
	assert.Equal(t, "connected", attr(t, ctx, adaCard+" .state", "data-state"))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+adaCard+` li.text').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing was shown or sent")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(adaCard+" form input"), long[:4096]),
		press(adaCard+" form button"),
		waitFor(adaCard+` li.text.own[data-seq="1"]:not(.pending)`),
		waitForText(adaCard+` [data-slot="error"]`, ""),
	))
	value, err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS(adaCard+" form input")))
	require.NoError(t, err)
	assert.Empty(t, value, "taken: the field empties")
}

// A card shows the history, then a "live" line, then what comes live, in
// seq order.
func TestBrowserLiveLineAfterTheHistory(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(bobCard+`[data-users="ada,bob"]`),
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "said before"),
		press(adaCard+" form button"),
		waitFor(bobCard+` li.text[data-seq="1"]`),
		// A new page: its cards get "said before" in their history.
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(bobCard+`[data-users="ada,bob"] li.live`),
		chromedp.SendKeys(chromedp.CSS(bobCard+" form input"), "said live"),
		press(bobCard+" form button"),
		waitFor(adaCard+` li.text[data-seq="2"]`),
	))
	for _, card := range []string{adaCard, bobCard} {
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+card+` .transcript li')].filter(li => li.dataset.kind !== 'join' && li.dataset.kind !== 'leave').map(li => li.dataset.kind + ':' + li.querySelector('.content').textContent)`))
		require.NoError(t, err)
		assert.Equal(t, []string{"text:said before", "live:live", "text:said live"}, rows, card)
	}
}

// The echo panel's "Send 64 KiB + 1": the log says what will happen,
// and then explains the 1009; echo does not reconnect by itself after
// it, and Enter says so.
func TestBrowserEchoOneByteOverTheLimit(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(`#echo-state[data-state="connected"]`),
		press("#echo-big"),
		waitFor(`#echo-log tr[data-kind="close"]`),
		waitFor(`#echo-state[data-state="disconnected"]`),
	))
	assert.Contains(t, text(t, ctx, `#echo-log tr[data-kind="note"] td.data`), "one over the server's 64 KiB read limit")
	assert.Equal(t, "65537 B", text(t, ctx, `#echo-log tr[data-dir="sent"] td.size`))
	assert.Contains(t, text(t, ctx, `#echo-log tr[data-kind="close"] td.data`), "1009 message too big: over the endpoint's read limit")

	// Enter in the field, disconnected: the reason, not silence.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#echo-input"), "hello\r"),
		waitForText("#echo-error", "not connected: press Connect first"),
	))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#echo-log tr[data-kind="retry"]').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "1009 advises against reconnecting")

	// The placeholder follows the frame type, and a stale error goes.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#echo-mode"), "hex"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("echo-mode").dispatchEvent(new Event("change"))`),
		waitForText("#echo-error", ""),
	))
	assert.Contains(t, attr(t, ctx, "#echo-input", "placeholder"), "de ad be ef")
}
