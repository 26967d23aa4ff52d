// Command serve runs the playground with your hub relaying every chat
// room: scripts/workshop serve 3, then open the page and chat between its
// cards. (With the starter, the second card to join freezes the room: the
// deadlock of task 2.)
package main

import (
	"context"

	"wsplay/server/playground"
	hub "wsplay/workshop/03-hub"
	"wsplay/workshop/internal/serve"
)

func main() {
	h := hub.NewHub()
	go h.Run(context.Background())
	serve.Main(serve.Exercise{
		N: 3, What: "your hub relaying the chat",
		Deps: playground.Deps{Chat: serve.HubChat(serve.Hub[*hub.Client]{
			NewClient:  hub.NewClient,
			Queue:      func(c *hub.Client) <-chan []byte { return c.Send },
			Register:   h.Register,
			Unregister: h.Unregister,
			Broadcast:  h.Broadcast,
			Joined:     hub.Joined,
		})},
		Panel: serve.Panel{Page: "/#chat", Actions: []serve.Action{{Label: "Restart the server", URL: "/api/workshop/restart"}}},
	})
}
