package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// The browser tests load the real page, with the real WebAssembly client
// built from this checkout, in headless Chromium. They cover what only a
// browser shows; the client's logic is tested natively in wasmclient/app.

// buildSite returns the site with a freshly built client, built once per
// test run (servertest.BuiltSite).
func buildSite(t *testing.T) fs.FS { return servertest.BuiltSite(t) }

// newBrowser starts a headless Chromium with a fresh profile for the test.
// Without Chromium the test fails, saying how to install it, unless
// WSPLAY_SKIP_BROWSER=1 asks to skip the browser tests.
func newBrowser(t *testing.T) context.Context { return servertest.Browser(t) }

// screenshot saves the page as a PNG when WSPLAY_SCREENSHOT_DIR is set; the
// README's screenshot is made this way.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("WSPLAY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if strings.HasPrefix(name, "full-") {
		shot = chromedp.FullScreenshot(100) // quality 100 is PNG
	}
	png, err := chromedp.Run(ctx, shot)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// text returns the text of the first element that matches a CSS selector.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, "text of %s", css)
	return s
}

// waitFor waits until an element matching a CSS selector is visible.
func waitFor(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(css))
}

// press clicks the first element matching a CSS selector once it exists
// and is enabled. It clicks through the DOM (element.click(), which
// submits a form as a person's click does), not with the mouse: a mouse
// click goes to coordinates, and while the page still lays itself out (a
// card filling in, a chart resizing) another element can move under them.
func press(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); if (!e || e.disabled) return false; e.click(); return true })()`, css))
}

// adaAndBob, after a page's address, names its two cards ada and bob, in
// place of the random names each tab picks.
const adaAndBob = "/?users=ada,bob"

func TestBrowserEcho(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		// The client connects by itself as soon as it runs.
		waitFor(`#echo-state[data-state="connected"]`),
	))
	assert.Contains(t, text(t, ctx, "#runtime"), "Go client running")
	connectedMs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.echoConnectedMs`))
	require.NoError(t, err)
	ms, err := strconv.ParseFloat(connectedMs, 64)
	require.NoError(t, err, "data-echo-connected-ms = %q", connectedMs)
	t.Logf("page load to echo connected: %.0f ms", ms)
	// main.wasm is requested once, by the preload in index.html, which
	// main.js's fetch then takes over (a preload that does not match the
	// fetch, such as one without crossorigin, is a second download); and
	// echo's login was sent before the Go client began.
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
	  const r = performance.getEntriesByType("resource");
	  const login = r.find(e => e.name.endsWith("/api/login"));
	  return [r.filter(e => e.name.endsWith("/dist/main.wasm")).length, login ? login.startTime : -1, +document.body.dataset.goMainMs];
	})()`))
	require.NoError(t, err)
	assert.Equal(t, 1.0, order[0], "requests for main.wasm")
	assert.True(t, order[1] >= 0 && order[1] < order[2], "the loader's login starts at %.0f ms, before the Go client's main at %.0f ms", order[1], order[2])

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#echo-input"), "hello from Chromium"),
		press("#echo-send"),
		waitFor(`#echo-log tr[data-dir="received"]`),
	))
	assert.Equal(t, "hello from Chromium", text(t, ctx, `#echo-log tr[data-dir="received"] td.data`))
	input, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#echo-input")))
	require.NoError(t, err)
	assert.Empty(t, input, "the input is cleared once sent")

	// A binary frame typed as hex comes back as binary, shown as hex.
	const binRow = `#echo-log tr[data-dir="received"][data-kind="binary"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("echo-mode").value = "hex"`),
		chromedp.SendKeys(chromedp.CSS("#echo-input"), "de ad be ef"),
		press("#echo-send"),
		waitFor(binRow),
	))
	assert.Equal(t, "de ad be ef", text(t, ctx, binRow+" td.data"))
	assert.Equal(t, "4 B", text(t, ctx, binRow+" td.size"))
	assert.NotEmpty(t, text(t, ctx, binRow+" td.rtt"), "round trip shown")
	screenshot(t, ctx, "echo.png")

	// Disconnecting shows the close code and what it means.
	require.NoError(t, chromedp.Do(ctx,
		press("#echo-connect"),
		waitFor(`#echo-state[data-state="disconnected"]`),
		waitFor(`#echo-log tr[data-kind="close"]`),
	))
	assert.Contains(t, text(t, ctx, `#echo-log tr[data-kind="close"] td.data`), "1000 normal closure")
}

func TestBrowserChatVirtualClients(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)

	// The page starts with two clients, ada and bob, in "general".
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(adaCard+`[data-users="ada,bob"]`),
		waitFor(bobCard+`[data-users="ada,bob"]`),
	))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "hi bob"),
		press(adaCard+" form button"),
		waitFor(bobCard+` li.text[data-seq="1"]`),
		// ada's own line is acknowledged: no longer pending.
		waitFor(adaCard+` li.text.own[data-seq="1"]:not(.pending)`),
	))
	assert.Equal(t, "hi bob", text(t, ctx, bobCard+` li.text[data-seq="1"] .content`))
	assert.Equal(t, "ada", text(t, ctx, bobCard+` li.text[data-seq="1"] .who`))

	// Typing shows in the other card.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(bobCard+" form input"), "typ"),
	))
	require.NoError(t, chromedp.Do(ctx, waitForText(adaCard+" .typing", "bob is typing…")))

	// A second tab of ada: bob's list does not change, and the new card
	// gets the history.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#chat-add-user"), "ada"),
		press("#chat-add-button"),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(3) li.text[data-seq="1"]`),
	))
	assert.Equal(t, "ada,bob", attr(t, ctx, bobCard, "data-users"))
	screenshot(t, ctx, "chat.png")
}

// waitForText waits until the element's text is want.
func waitForText(css, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`document.querySelector(%q)?.textContent === %q`, css, want))
}

// attr returns an attribute of the first element that matches.
func attr(t *testing.T, ctx context.Context, css, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q)`, css, name)))
	require.NoError(t, err)
	return v
}

func TestBrowserNotificationToastAndBadge(t *testing.T) {
	cfg := testConfig(t)
	cfg.Notify.AdminToken = "browser-test-admin-token"
	ts := startServerWithSite(t, cfg, buildSite(t))
	ctx := newBrowser(t)

	const ada = `#chat-clients article[data-user="ada"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(ada+` .badge[data-count="0"]`),
		waitFor(ada+`[data-users="ada,bob"]`),
	))
	// A second tab of ada.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#chat-add-user"), "ada"),
		press("#chat-add-button"),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(3) .badge[data-count="0"]`),
	))

	// A back-end system sends ada a notification through the HTTP API.
	body := strings.NewReader(`{"user_id":"ada","type":"order","title":"Order confirmed","message":"Your order #42 has shipped"}`)
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/notifications", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+cfg.Notify.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	// Both of ada's tabs show a toast and a badge of 1; bob's stays 0.
	require.NoError(t, chromedp.Do(ctx,
		waitFor(ada+` .toast`),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(1) .badge[data-count="1"]`),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(3) .badge[data-count="1"]`),
	))
	assert.Contains(t, text(t, ctx, ada+" .toast"), "Order confirmed")
	assert.Equal(t, "0", attr(t, ctx, `#chat-clients article[data-user="bob"] .badge`, "data-count"))
	screenshot(t, ctx, "notifications.png")
	if os.Getenv("WSPLAY_SCREENSHOT_DIR") != "" {
		readmePicture(t, ctx)
	}

	// Marking it read in one tab clears the badge in both.
	require.NoError(t, chromedp.Do(ctx,
		press(`#chat-clients article[data-user="ada"] .note-list button`),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(1) .badge[data-count="0"]`),
		waitFor(`#chat-clients article[data-user="ada"]:nth-of-type(3) .badge[data-count="0"]`),
	))
}

// With -require-auth the page still works: each virtual client logs in as
// a guest and sends its own token.
func TestBrowserClientsLogInWhenAuthIsRequired(t *testing.T) {
	cfg := testConfig(t)
	cfg.Gate.RequireAuth = true
	ts := startServerWithSite(t, cfg, buildSite(t))
	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(`#chat-clients article[data-user="ada"][data-users="ada,bob"]`),
		// The notification pane is folded: read its text, not what shows.
		chromedp.Poll[chromedp.Void](`document.querySelector('#chat-clients article[data-user="bob"] .notes .detail')?.textContent.includes('notifications: connected')`),
		// Echo and the dashboard have no user: the login cookie is their token.
		waitFor(`#echo-state[data-state="connected"]`),
		waitFor(`#dash-state[data-state="connected"]`),
	))
}

// Tried as a user would: chat, stop the server, type while it is down,
// start it again. The cards reconnect by themselves, resume, and nothing
// is lost or shown twice.
func TestBrowserChatSurvivesAServerRestart(t *testing.T) {
	cfg := testConfig(t)
	site := buildSite(t)
	first := startServerWithSite(t, cfg, site)
	ctx := newBrowser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(first.URL+adaAndBob),
		waitFor(bobCard+`[data-users="ada,bob"]`),
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "before"),
		press(adaCard+" form button"),
		waitFor(bobCard+` li.text[data-seq="1"]`),
	))

	require.NoError(t, first.Close())
	// Keep the address while the server is down, hanging up on every
	// connection, so that no other test's server can take it meanwhile.
	addr := strings.TrimPrefix(first.URL, "http://")
	release := servertest.HoldAddress(t, addr)
	explain := func() string { // what the cards say, for a failure
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
			`[...document.querySelectorAll('.card')].map(c => c.dataset.user + ': ' + c.querySelector('.state').dataset.state + ' / ' + c.querySelector('.detail').textContent).join('\n')`))
		return s
	}
	require.NoError(t, chromedp.Do(ctx, waitFor(adaCard+` .state[data-state="disconnected"]`)), "%s", explain())
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "while down"),
		press(adaCard+" form button"),
		waitFor(adaCard+` li.text.pending`),
	), "%s", explain())

	release()
	startServerAt(t, cfg, site, addr) // same address, same data directory
	require.NoError(t, chromedp.Do(ctx,
		waitFor(bobCard+` li.text[data-seq="2"]`),
		waitFor(adaCard+` li.text.own[data-seq="2"]:not(.pending)`),
	), "%s", explain())
	assert.Equal(t, "while down", text(t, ctx, bobCard+` li.text[data-seq="2"] .content`))
	for _, card := range []string{adaCard, bobCard} {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+card+` li.text').length`))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "each message shown once, the pending one too: %s", card)
	}
	// Echo came back too, by itself: the 1001, then its waits.
	require.NoError(t, chromedp.Do(ctx, waitFor(`#echo-state[data-state="connected"]`)), "%s", explain())
	assert.Contains(t, text(t, ctx, `#echo-log tr[data-kind="close"] td.data`), "1001 going away")
	assert.Contains(t, text(t, ctx, `#echo-log tr[data-kind="retry"] td.data`), "reconnecting in")
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`))
	require.NoError(t, err)
	assert.NotContains(t, page, "token=ey", "the page never shows a token")
}

// FAULTS row 13, in the page: untrusted text is rendered as text.
func TestFault13_UntrustedTextRendersAsText(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
		payload = `<img src=x onerror="document.body.dataset.pwned=1">`
	)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(bobCard+`[data-users="ada,bob"]`),
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), payload),
		press(adaCard+" form button"),
		waitFor(bobCard+` li.text[data-seq="1"]`),
	))
	assert.Equal(t, payload, text(t, ctx, bobCard+` li.text[data-seq="1"] .content`))
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.querySelector("#chat-clients img") !== null || document.body.dataset.pwned !== undefined`))
	require.NoError(t, err)
	assert.False(t, pwned, "the message was parsed as markup")
}

// readmePicture makes the README's picture: every panel, with a chat, an
// echo and a toast showing.
func readmePicture(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#chat-clients article[data-user="bob"] form input`), "shipped already? nice"),
		press(`#chat-clients article[data-user="bob"] form button`),
		waitFor(`#chat-clients article[data-user="ada"] li.text[data-seq="1"]`),
		chromedp.SendKeys(chromedp.CSS("#echo-input"), "hello, echo"),
		press("#echo-send"),
		waitFor(`#echo-log tr[data-dir="received"]`),
		chromedp.Sleep(2500*time.Millisecond), // a few dashboard ticks
	))
	screenshot(t, ctx, "full-page.png")
}

// Issue 15 in the browser: a room whose history (50 messages of 4,000
// bytes) is far over 32 KiB reaches the page's clients, which read at
// 32 KiB, whole and in order; and a plain JavaScript client, as the
// tutorial writes one, parses every frame as one JSON value, none over
// 32 KiB, and gathers the pages by their more flag.
func TestBrowserLongHistoryInPages(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	seed := ts.joinChat(t, "general", "seed")
	seed.joined()
	body := strings.Repeat("x", 4000)
	for i := 1; i <= 50; i++ {
		seed.say(fmt.Sprintf("%02d %s", i, body))
	}
	for range 50 {
		seed.expect(shared.TypeText)
	}

	ctx := newBrowser(t)
	const adaCard = `#chat-clients article[data-user="ada"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(adaCard+` li.text[data-seq="50"]`),
	))
	seqs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('`+adaCard+` li.text')).map(li => li.dataset.seq)`))
	require.NoError(t, err)
	want := make([]string, 50)
	for i := range want {
		want[i] = strconv.Itoa(i + 1)
	}
	assert.Equal(t, want, seqs, "the page's client shows every message once, in order")

	type plain struct {
		Frames, Largest int
		Seqs            []int
		Error           string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[plain](`new Promise(resolve => {
		const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/chat?room=general&username=js");
		const out = {Frames: 0, Largest: 0, Seqs: [], Error: ""};
		const end = e => { out.Error = e; ws.close(); resolve(out); };
		setTimeout(() => end("timed out"), 10000);
		ws.onerror = () => end("connection failed");
		ws.onmessage = ev => {
			out.Frames++;
			out.Largest = Math.max(out.Largest, new TextEncoder().encode(ev.data).length);
			let m;
			try { m = JSON.parse(ev.data); } catch (e) { end("frame " + out.Frames + " is not one JSON value: " + e); return; }
			if (m.type !== "history") return;
			for (const h of m.messages) out.Seqs.push(h.seq);
			if (!m.more) end("");
		};
	})`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Empty(t, got.Error)
	assert.LessOrEqual(t, got.Largest, shared.MaxFrame, "no frame over 32 KiB")
	require.Len(t, got.Seqs, 50)
	for i, s := range got.Seqs {
		require.Equal(t, i+1, s, "in seq order")
	}
}
