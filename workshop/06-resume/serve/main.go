// Command serve runs the playground with your Store keeping the chat
// history: scripts/workshop serve 6, then open the page, chat, stop the
// server and start it again (your store is in memory: the history is
// gone, and the page is told so).
package main

import (
	"wsplay/server/playground"
	resume "wsplay/workshop/06-resume"
	"wsplay/workshop/internal/serve"
)

func main() {
	serve.Main(6, "your Store keeping the chat history", playground.Deps{ChatStore: resume.New()})
}
