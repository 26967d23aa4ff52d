package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
)

// Tried as a new user would, on a network that drops a connection
// without a word: the page is served through a proxy, which then stops
// forwarding ada's chat socket, both ways, and closes nothing. The
// browser cannot send a WebSocket ping, so only the client's own
// heartbeat can notice: ada's card says the server stopped answering,
// reconnects on a fresh connection through the proxy within twice the
// heartbeat (the page's ?heartbeat=2s), and what ada sends then reaches
// bob. Without the heartbeat nothing would happen until TCP gave up,
// minutes later.
func TestBrowserChatHeartbeatFindsAStalledConnection(t *testing.T) {
	const beat = 2 * time.Second
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	proxy := servertest.StartStallProxy(t, strings.TrimPrefix(ts.URL, "http://"))
	ctx := newBrowser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	adaSocket := func(u *url.URL) bool { return u.Path == "/ws/chat" && u.Query().Get("username") == "ada" }
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s%s&heartbeat=%v", proxy.URL(), adaAndBob, beat)),
		waitFor(adaCard+`[data-users="ada,bob"]`),
		waitFor(bobCard+`[data-users="ada,bob"]`),
		waitFor(adaCard+` .state[data-state="connected"]`),
		// Every state the card shows from now on, and every detail. One
		// record per change, however close together: a short backoff
		// can put a few changes into one task, and the observer's
		// callback sees them all at once.
		chromedp.Evaluate[chromedp.Void](`(() => {
			const card = document.querySelector('`+adaCard+`');
			const state = card.querySelector('.state'), detail = card.querySelector('.detail');
			window.adaStates = [];
			new MutationObserver(records => {
				for (const r of records) {
					if (r.type === 'attributes') {
						window.adaStates.push('state ' + r.target.getAttribute('data-state') + ' (was ' + r.oldValue + ')');
					} else {
						for (const n of r.addedNodes) window.adaStates.push('detail ' + n.textContent);
					}
				}
			}).observe(state, {attributes: true, attributeFilter: ['data-state'], attributeOldValue: true});
			new MutationObserver(records => {
				for (const r of records) for (const n of r.addedNodes) window.adaStates.push('detail ' + n.textContent);
			}).observe(detail, {childList: true});
		})()`),
	))
	before := proxy.Requests(adaSocket)
	require.Positive(t, before, "ada's chat went through the proxy")
	states := func() []string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.adaStates`))
		require.NoError(t, err)
		return s
	}

	stalled := time.Now()
	require.Equal(t, 1, proxy.StallRequests(adaSocket), "one socket stalled: ada's chat")
	connectedAgain := func() bool {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+adaCard+` .state').dataset.state`))
		require.NoError(t, err)
		return s == "connected" && len(states()) > 0
	}
	eventually(t, "ada's card on a fresh connection", func() bool {
		return proxy.Requests(adaSocket) > before && connectedAgain()
	}, func() string { return fmt.Sprintf("changes %q; %d connections", states(), proxy.Requests(adaSocket)) })
	took := time.Since(stalled)
	assert.Less(t, took, 2*beat, "reconnected %v after the stall", took)
	t.Logf("the card reconnected %v after its socket stalled (heartbeat %v): %q", took.Round(time.Millisecond), beat, states())
	changes := strings.Join(states(), "\n")
	assert.Contains(t, changes, "state disconnected (was connected)", "the card showed the loss")
	assert.Contains(t, changes, fmt.Sprintf("detail no answer from the server for %v; reconnecting in", beat), "the card said why")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "after the stall"),
		press(adaCard+" form button"),
		waitFor(bobCard+` li.text[data-seq="1"]`),
		waitFor(adaCard+` li.text.own[data-seq="1"]:not(.pending)`),
	))
	assert.Equal(t, "after the stall", text(t, ctx, bobCard+` li.text[data-seq="1"] .content`))
	assert.Equal(t, before+1, proxy.Requests(adaSocket), "one reconnection, no more")
}
