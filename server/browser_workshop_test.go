package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/site"
)

// The workshop's pages, as a new user opens them from the page's footer:
// the index lists every lesson, and each lesson loads with its tasks and
// without a console error, its stylesheet applied (the CSP allows it).
func TestBrowserWorkshopPages(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), site.Files())
	ctx := newBrowser(t)
	var mu sync.Mutex
	var problems []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded: // resources that failed, CSP refusals
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, e.Entry.Text+" "+e.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, string(e.Type))
			}
		}
	}))
	_, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/workshop"), // redirected to /workshop/
		waitFor("main table"),
	))
	lessons, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('main table a')).map(a => a.href)`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(lessons), 9, "the index lists the lessons")
	for _, url := range lessons {
		require.True(t, strings.HasPrefix(url, ts.URL+"/workshop/"), url)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url), waitFor("main h1")), url)
		assert.NotEmpty(t, text(t, ctx, "main h1"), url)
		assert.Contains(t, text(t, ctx, "main h2"), "Tasks", url)
		// The stylesheet loaded (a CSP that refused it would leave the
		// browser's default font).
		font, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
		require.NoError(t, err)
		assert.Contains(t, font, "system-ui", url)
		// Served by the playground, which serves no exercise, the live
		// panel says how to bring it to life.
		assert.Contains(t, text(t, ctx, "#live .live-state"), "scripts/workshop serve", url)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, problems, "console errors or warnings on the workshop's pages")
}
