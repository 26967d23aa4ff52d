package serve

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/playground"
	"wsplay/server/servertest"
	"wsplay/workshop/03-hub/solution"
)

// What scripts/workshop serve 3 shows, with the reference hub: the
// page's two chat cards talk through it.
func TestBrowserHubChatInThePage(t *testing.T) {
	h := solution.NewHub()
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); h.Run(ctx) }()
	s, err := Start("127.0.0.1:0", Exercise{N: 3, Deps: playground.Deps{
		Site: servertest.BuiltSite(t),
		Chat: HubChat(Hub[*solution.Client]{
			NewClient:  solution.NewClient,
			Queue:      func(c *solution.Client) <-chan []byte { return c.Send },
			Register:   h.Register,
			Unregister: h.Unregister,
			Broadcast:  h.Broadcast,
			Joined:     solution.Joined,
		}),
	}})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop()); stop(); <-ran }()

	browser := servertest.Browser(t)
	const (
		adaCard = `#chat-clients article[data-user="ada"]`
		bobCard = `#chat-clients article[data-user="bob"]`
	)
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(s.URL+"/?users=ada,bob"), // the cards named, in place of the tab's random names
		chromedp.WaitVisible(chromedp.CSS(adaCard+" form input")),
		chromedp.WaitVisible(chromedp.CSS(bobCard+" form input")),
		chromedp.SendKeys(chromedp.CSS(adaCard+" form input"), "hi bob, through my hub"),
		chromedp.Click(chromedp.CSS(adaCard+" form button")),
		chromedp.WaitVisible(chromedp.CSS(bobCard+` li.text[data-seq="1"]`)),
	))
	got, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(bobCard+` li.text[data-seq="1"] .content`)))
	require.NoError(t, err)
	assert.Equal(t, "hi bob, through my hub", got)
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate("about:blank"))) // the page's sockets close before the server stops
}
