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

// The dashboard panel shows the server's real values: opening connections
// from outside the page moves them. It runs at the default 1 s interval,
// as a new user sees it.
func TestBrowserDashboard(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)

	const connections = `#dash-values [data-key="connections"] .value`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		waitFor(`#dash-state[data-state="connected"]`),
		waitFor(connections),
	))
	number := func(css string) int {
		n, _ := strconv.Atoi(strings.Fields(text(t, ctx, css) + " x")[0])
		return n
	}
	// The page's own echo and dashboard connections.
	eventually(t, "the page's two connections", func() bool { return number(connections) == 2 })
	assert.Contains(t, text(t, ctx, `#dash-values [data-key="memory_usage"] .value`), "MiB")
	assert.Contains(t, text(t, ctx, `#dash-values [data-key="cpu_usage"] .value`), "%")

	start := time.Now()
	for range 3 {
		ts.dial(t, "/ws/echo", nil)
	}
	eventually(t, "the three new connections on the page", func() bool { return number(connections) == 5 })
	t.Logf("three echo clients opened to shown on the dashboard: %v", time.Since(start).Round(10*time.Millisecond))
	const echoLegend = `figure[data-chart="connections"] ul.legend li:nth-child(2) .value`
	eventually(t, "the chart's echo line at 4", func() bool { return text(t, ctx, echoLegend) == "4" })

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
		chromedp.Click(chromedp.CSS("#dash-connect")),
		waitFor(`#dash-state[data-state="disconnected"]`),
	))
	eventually(t, "the sampler to stop", func() bool { return ts.dashboard.running() == 0 })
}
