// Command serve runs the playground with your Presence in every chat
// room: scripts/workshop serve 5, then open the page, and open it again
// in a second tab as the same user.
package main

import (
	"wsplay/server/chat"
	"wsplay/server/playground"
	presence "wsplay/workshop/05-presence"
	"wsplay/workshop/internal/serve"
)

func main() {
	serve.Main(serve.Exercise{
		N: 5, What: "your Presence in every chat room",
		Deps: playground.Deps{
			ChatPresence: func(string) chat.Presence { return presence.New() },
		},
		Panel: serve.Panel{Page: "/#chat", Actions: []serve.Action{{Label: "Restart the server", URL: "/api/workshop/restart"}}},
	})
}
