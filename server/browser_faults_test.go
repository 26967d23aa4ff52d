package main

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -playground-faults, a card's raw send asks the server to stall its
// reads: the server stops writing to that card, its queue fills as bob
// talks, it is closed with 1008 "too slow" (its inspector says so) while
// bob's card goes on, and it comes back and resumes with nothing lost.
func TestBrowserStalledCardIsDroppedAndResumes(t *testing.T) {
	cfg := testConfig(t)
	cfg.Chat.Faults = true
	ts := startServerWithSite(t, cfg, buildSite(t))
	ctx := newBrowser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(adaCard+`[data-users="ada,bob"]`),
		waitFor(bobCard+`[data-users="ada,bob"]`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+adaCard+` details.inspector').open = true`),
		chromedp.SetValue(chromedp.CSS(adaCard+` .inspector textarea`), `{"type":"fault","content":"stall_reads=4"}`),
		press(adaCard+` .inspector form.raw button`),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('`+adaCard+` .inspector .frames li')].some(li => li.textContent.includes('stall_reads=4') && li.textContent.includes('received'))`),
	))
	const n = 8
	for i := 1; i <= n; i++ {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(bobCard+" form input"), "m"+strconv.Itoa(i)),
			press(bobCard+" form button"),
			waitFor(bobCard+` li.text[data-seq="`+strconv.Itoa(i)+`"]`),
		))
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('`+adaCard+` .inspector .frames li')].some(li => li.textContent.includes('1008'))`),
		// Back, with every message once, in order.
		waitFor(adaCard+` li.text[data-seq="`+strconv.Itoa(n)+`"]`),
	))
	seqs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+adaCard+` li.text')].map(li => li.dataset.seq)`))
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7", "8"}, seqs)
}
