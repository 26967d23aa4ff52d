package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	pumps "wsplay/workshop/02-pumps/solution"
	auth "wsplay/workshop/09-origin-tokens/solution"
)

// until waits for a JavaScript expression to be true in the page.
func until(expr string) chromedp.Action[chromedp.Void] { return chromedp.Poll[chromedp.Void](expr) }

// do runs a JavaScript statement in the page.
func do(stmt string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void]("(() => { " + stmt + " })()")
}

// consoleSays waits for a line of the live panel's console that holds
// want.
func consoleSays(want string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`[...document.querySelectorAll("#live ol.frames li")].some(li => li.textContent.includes(%q))`, want))
}

const (
	connect = `document.querySelector("#live .console form button").click()`
	// sendLine submits the console's second form with the line in %q.
	sendLine = `const f = document.querySelectorAll("#live .console form")[1]; f.querySelector("input").value = %q; f.requestSubmit()`
)

func serveForTest(t *testing.T, ex Exercise) *Server {
	t.Helper()
	ex.Deps.Site = servertest.BuiltSite(t)
	s, err := Start("127.0.0.1:0", ex)
	require.NoError(t, err)
	return s
}

func stop(t *testing.T, browser context.Context, s *Server) {
	t.Helper()
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate("about:blank"))) // the page's sockets close first
	http.DefaultClient.CloseIdleConnections()
	require.NoError(t, s.Stop())
}

// Exercise 2's lesson, served by its serve command with the reference
// pumps: the live panel's console connects and gets its line echoed;
// another exercise's lesson says which exercise is being served.
func TestBrowserLivePanelConsole(t *testing.T) {
	s := serveForTest(t, Exercise{
		N: 2, What: "the reference pumps",
		Routes: map[string]http.Handler{"/ws/workshop": pumps.Handler(nil, func(c *pumps.Conn, msg []byte) { c.Send(msg) })},
		Panel:  Panel{Socket: "/ws/workshop"},
	})
	browser := servertest.Browser(t)
	defer stop(t, browser, s)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(s.URL+"workshop/02-pumps/"),
		until(`document.querySelector("#live .live-state").textContent === "Live: the reference pumps."`),
		do(connect),
		consoleSays("connected to /ws/workshop"),
		do(fmt.Sprintf(sendLine, "hello, pumps")),
		consoleSays("→ hello, pumps"),
		consoleSays("← hello, pumps"),
		chromedp.Navigate(s.URL+"workshop/04-slow/"),
		until(`document.querySelector("#live .live-state").textContent.includes("scripts/workshop serve 2, for exercise 2")`),
	))
}

// Exercise 9's lesson: refused without a token (in words), the panel's
// button fetches one into the console's address, and the endpoint greets
// the token's subject.
func TestBrowserLivePanelToken(t *testing.T) {
	secret := []byte("a test secret of enough length")
	s := serveForTest(t, Exercise{
		N: 9, What: "the reference endpoint",
		Routes: map[string]http.Handler{
			"/ws/workshop":             auth.Handler(secret, slog.New(slog.NewTextHandler(io.Discard, nil))),
			"POST /api/workshop/token": Tokens(secret),
		},
		Panel: Panel{Socket: "/ws/workshop?user=mallory", Actions: []Action{{Label: "Get a token", URL: "/api/workshop/token", Fields: []string{"user"}, Token: true}}},
	})
	browser := servertest.Browser(t)
	defer stop(t, browser, s)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(s.URL+"workshop/09-origin-tokens/"),
		until(`document.querySelector("#live .console") !== null`),
		do(connect),
		consoleSays("the handshake failed"),
		do(`document.querySelector("#live form:not(.console form)").requestSubmit()`),
		until(`document.querySelector("#live .answer").textContent.includes("A token for ada")`),
		until(`document.querySelector("#live .console input").value.includes("token=")`),
		do(connect),
		consoleSays("← hello ada"),
	))
}

// Exercise 3's lesson shows the playground's page in its panel (the
// page lets its own origin frame it), with its chat cards running.
func TestBrowserLivePanelFramesThePage(t *testing.T) {
	s := serveForTest(t, Exercise{N: 3, What: "the playground's chat", Panel: Panel{Page: "/#chat"}})
	browser := servertest.Browser(t)
	defer stop(t, browser, s)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(s.URL+"workshop/03-hub/"),
		until(`document.querySelector("#live iframe")?.contentDocument?.querySelector("#chat-clients article") != null`),
	))
}

// Exercise 10's live page runs the reference client, compiled to
// WebAssembly, in the playground's chat: a line typed in the page comes
// back from the room, and a line typed while the server restarts is
// delivered once it is back.
func TestBrowserClientPage(t *testing.T) {
	page, err := ClientPage("/workshop/live/", "wsplay/workshop/10-client/solution/wasm")
	require.NoError(t, err)
	s := serveForTest(t, Exercise{N: 10, Routes: map[string]http.Handler{"/workshop/live/": page}})
	browser := servertest.Browser(t)
	defer stop(t, browser, s)
	const (
		typeLine = `const f = document.getElementById("send"); f.querySelector("input").value = %q; f.requestSubmit()`
		heard    = `[...document.querySelectorAll("#lines li")].filter(li => li.textContent.endsWith("you: " + %q)).length === 1`
	)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(s.URL+"workshop/live/?room=general&username=you"),
		until(`document.getElementById("state").textContent.startsWith("your client is in room general")`),
		do(fmt.Sprintf(typeLine, "hello from WebAssembly")),
		until(fmt.Sprintf(heard, "hello from WebAssembly")),
	))
	restarted := make(chan error, 1)
	go func() { restarted <- s.Restart(context.Background()) }()
	require.Eventually(t, func() bool { // the line is typed while the server is down
		code, _ := get(t, s.URL+"healthz")
		return code == http.StatusServiceUnavailable
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, chromedp.Do(browser,
		do(fmt.Sprintf(typeLine, "typed during the restart")),
		until(fmt.Sprintf(heard, "typed during the restart")),
	))
	require.NoError(t, <-restarted)
}
