package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The dashboard panel shows the server's real values: chat clients opened
// from outside the page move them. It runs at the default 1 s interval,
// as a new user sees it.
func TestBrowserDashboard(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)

	const connections = `#dash-values [data-key="connections"] .value`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(`#dash-state[data-state="connected"]`),
		waitFor(connections),
	))
	number := func(css string) int {
		n, _ := strconv.Atoi(strings.Fields(text(t, ctx, css) + " x")[0])
		return n
	}
	// The page's own connections: echo, dashboard, and ada's and bob's
	// chat cards with their notifications.
	const users = `#dash-values [data-key="active_users"] .value`
	var base int
	eventually(t, "the page's own connections", func() bool {
		base = ts.Gate().Len()
		return base >= 4 && number(connections) == base && number(users) == 2
	})
	assert.Contains(t, text(t, ctx, `#dash-values [data-key="memory_usage"] .value`), "MiB")
	assert.Contains(t, text(t, ctx, `#dash-values [data-key="cpu_usage"] .value`), "%")

	start := time.Now()
	var clients []*chatConn
	for _, user := range []string{"cy", "dee", "eve"} {
		clients = append(clients, ts.joinChat(t, "general", user))
	}
	eventually(t, "the three chat clients on the page", func() bool { return number(connections) == base+3 && number(users) == 5 })
	t.Logf("three chat clients opened to shown on the dashboard: %v", time.Since(start).Round(10*time.Millisecond))
	const chatLegend = `figure[data-chart="connections"] ul.legend li:nth-child(3) .value`
	eventually(t, "the chart's chat line at 5", func() bool { return text(t, ctx, chatLegend) == "5" })

	// Their messages show as message rates and as fan-out latency.
	start = time.Now()
	const msgsIn, fanout = `#dash-values [data-key="messages_in_per_sec"] .value`, `#dash-values [data-key="response_time"] .value`
	for i := 0; ; i++ {
		clients[i%3].say("hello from the test")
		if text(t, ctx, msgsIn) != "0 /s" && text(t, ctx, fanout) != "0 ms" {
			break
		}
		require.Less(t, i, 500, "message rates did not rise on the page")
		time.Sleep(10 * time.Millisecond) // pace the chatter, as people type
	}
	t.Logf("first chat message to rates shown on the dashboard: %v", time.Since(start).Round(10*time.Millisecond))

	points, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('figure[data-chart="connections"] canvas').dataset.points`))
	require.NoError(t, err)
	n, err := strconv.Atoi(points)
	require.NoError(t, err, "data-points = %q", points)
	assert.Greater(t, n, 2, "the chart drew the snapshots")
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#dash-charts canvas').length`))
	require.NoError(t, err)
	assert.Equal(t, 5, charts)
	if dir := os.Getenv("WSPLAY_SCREENSHOT_DIR"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#dashboard")))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboard.png"), png, 0o644))
	}

	// Disconnecting stops the viewer; the server's sampler stops with it.
	require.NoError(t, chromedp.Do(ctx,
		press("#dash-connect"),
		waitFor(`#dash-state[data-state="disconnected"]`),
	))
	eventually(t, "the sampler to stop", func() bool { return ts.Dashboard().Running() == 0 })
}
