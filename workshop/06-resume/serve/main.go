// Command serve runs the playground with your Store keeping the chat
// history: scripts/workshop serve 6, then open the page, chat, stop the
// server and start it again (your store is in memory: the history is
// gone, and the page is told so), or restart it from the lesson's live
// panel, which keeps your store: the cards resume exactly.
package main

import (
	"wsplay/server/playground"
	resume "wsplay/workshop/06-resume"
	"wsplay/workshop/internal/serve"
)

func main() {
	serve.Main(serve.Exercise{
		N: 6, What: "your Store keeping the chat history",
		Deps:  playground.Deps{ChatStore: resume.New()},
		Panel: serve.Panel{Page: "/#chat", Actions: []serve.Action{{Label: "Restart the server", URL: "/api/workshop/restart"}}},
	})
}
