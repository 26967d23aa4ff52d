package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -playground-faults, a card's "Stall reads" button asks the server
// to stall its reads: the server stops writing to that card, its queue
// fills as bob talks, it is closed with 1008 "too slow" (its inspector
// says so, then each step of the recovery) while bob's card goes on, and
// it comes back and resumes with nothing lost. "Restart" on the
// dashboard and on a notification pane closes them with 1012, and they
// come back.
func TestBrowserStalledCardIsDroppedAndResumes(t *testing.T) {
	cfg := testConfig(t)
	cfg.Chat.Faults, cfg.Notify.Faults, cfg.Dashboard.Faults = true, true, true
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
		press(adaCard+` > [data-slot="inspector"] [data-fault^="stall_reads"]`),
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

	// The recovery, step by step, in the card's frames (oldest first):
	// the close, the wait, the new connection, the resume after the last
	// seq it had, and the catching up.
	require.NoError(t, chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('`+adaCard+` > [data-slot="inspector"] .frame[data-kind="resume"]')].some(r => r.dataset.raw.includes("caught up through seq "))`)))
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+adaCard+` > [data-slot="inspector"] .frame[data-dir="event"]')].reverse().map(r => r.dataset.kind + ": " + r.dataset.raw)`))
	require.NoError(t, err)
	var after []string
	for i, s := range steps {
		if strings.HasPrefix(s, "close: 1008") {
			after = steps[i:]
			break
		}
	}
	require.NotEmpty(t, after, "closed with 1008: %q", steps)
	kinds := make([]string, 0, len(after))
	for _, s := range after {
		kinds = append(kinds, strings.SplitN(s, ":", 2)[0])
	}
	assert.Equal(t, []string{"close", "retry", "open", "resume", "resume"}, kinds, "%q", after)
	assert.Contains(t, after[1], "reconnecting in")
	assert.Contains(t, after[1], "(attempt 1)")
	assert.Regexp(t, `^resume: asking for what came after seq \d+; sending again 0 unacknowledged$`, after[3])
	// Bob may still be typing when the card is back: it catches up to
	// where the room was then, and the rest comes live.
	assert.Regexp(t, `^resume: caught up through seq [1-8]$`, after[4])

	// Restart, on the dashboard and on ada's notifications: each closes
	// with 1012, waits, and is connected again.
	for _, sel := range []string{`#dashboard .inspector`, adaCard + ` .notes .inspector`} {
		restarted := `[...document.querySelectorAll('` + sel + ` .frame[data-dir="event"]')].reverse().map(r => r.dataset.kind + " " + r.dataset.raw).join("\n")`
		require.NoError(t, chromedp.Do(ctx,
			press(sel+` [data-fault="restart"]`),
			chromedp.Poll[chromedp.Void](restarted+`.match(/^close 1012.*\nretry reconnecting in .*\nopen connected$/m) !== null`),
		), sel)
	}
	require.NoError(t, chromedp.Do(ctx,
		waitFor(`#dash-state[data-state="connected"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+adaCard+` .notes .detail').textContent === 'notifications: connected'`),
	))

	// "Try this" ticks its fault item, and not the server restart: one
	// card went down, not all of them.
	require.NoError(t, chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector('#try-list li[data-try="slow"][data-done]') !== null`)))
	restart, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#try-list li[data-try="restart"]').hasAttribute("data-done")`))
	require.NoError(t, err)
	assert.False(t, restart, "a stalled card is no server restart")
}
