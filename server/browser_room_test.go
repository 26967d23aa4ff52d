package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/gate"
	"wsplay/server/servertest"
)

// A room of learners on one server with the default limits, every tab on
// one address as behind a classroom's NAT: 12 page loads all connect,
// every socket of every tab (echo, the dashboard, two cards and their
// notifications), each tab under names of its own, and the server refuses
// no handshake. WSPLAY_ROOM_TABS=12,40 goes on to 40 tabs: two minutes
// of a two-core machine, which scripts/test runs as a step of its own.
//
// The tabs are spread over browsers, ten each, as a room's are: one
// Chromium holds at most 256 sockets in all, and 40 tabs of six sockets
// each and their page loads pass that in one browser, whose last sockets
// then wait for a free one.
func TestBrowserARoomOfLearnersConnects(t *testing.T) {
	steps := []int{12}
	if v := os.Getenv("WSPLAY_ROOM_TABS"); v != "" {
		steps = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(f)
			require.NoError(t, err, "WSPLAY_ROOM_TABS=%s", v)
			steps = append(steps, n)
		}
	}
	cfg := testConfig(t)
	cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser = gate.DefaultMaxConnsPerIP, gate.DefaultMaxConnsPerUser
	// What is tested is who gets in. An idle tab spent about 5% of a core
	// here (its renderer's CPU time over 30 s), with the dashboard's
	// charts redrawn every second; forty of them are all of a two-core
	// machine. A push every 5 s leaves more of it to the tabs loading.
	cfg.Dashboard.Interval = 5 * time.Second
	ts := startServerWithSite(t, cfg, buildSite(t))
	const tabsPerBrowser = 10
	var browsers []context.Context

	names := map[string]bool{}
	var tabs []context.Context
	for _, total := range steps {
		for len(tabs) < total {
			if len(tabs)%tabsPerBrowser == 0 {
				b := servertest.BrowserFor(t, 20*time.Minute)
				require.NoError(t, chromedp.Do(b)) // the browser itself, before its tabs
				browsers = append(browsers, b)
			}
			tab, cancel := chromedp.NewContext(browsers[len(browsers)-1])
			t.Cleanup(cancel)
			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(ts.URL)))
			tabs = append(tabs, tab)
		}
		for i, tab := range tabs {
			explain := func() string {
				s, _ := chromedp.Run(tab, chromedp.Evaluate[string](`[document.getElementById("echo-state").dataset.state, document.getElementById("dash-state").dataset.state,
					...[...document.querySelectorAll('#chat-clients article')].map(c => c.dataset.user + " " + c.dataset.users + " " + c.querySelector('.detail').textContent + " / " + (c.querySelector('.notes .detail') || {}).textContent)].join("; ")`))
				return s
			}
			require.NoError(t, chromedp.Do(tab,
				waitFor(`#echo-state[data-state="connected"]`),
				waitFor(`#dash-state[data-state="connected"]`),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('#chat-clients article[data-users]').length === 2 &&
					[...document.querySelectorAll('#chat-clients article')].every(c => c.querySelector('.notes .detail').textContent === 'notifications: connected')`),
			), "tab %d of %d: %s", i+1, total, explain())
		}
		assert.Empty(t, refusals(t, ts.URL), "with %d tabs", total)
	}
	for _, tab := range tabs {
		users, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#chat-clients article')].map(c => c.dataset.user)`))
		require.NoError(t, err)
		for _, u := range users {
			assert.False(t, names[u], "%s is the name of two tabs' cards", u)
			names[u] = true
		}
	}
}

// refusals returns the server's counts of refused handshakes, by reason.
func refusals(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "wsplay_handshakes_rejected_total{") && !strings.HasSuffix(line, " 0") {
			out = append(out, line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
