// Command serve runs the playground with your client, compiled to
// WebAssembly, in a page of its own: scripts/workshop serve 10, then open
// the lesson's page. Its live panel shows your client beside the
// playground's chat; chat between them, press "Restart the server" and
// type while it is down: a client that does the lesson's tasks comes
// back without a storm, resumes without a gap and delivers every line
// once.
package main

import (
	"fmt"
	"net/http"
	"os"

	"wsplay/workshop/internal/serve"
)

func main() {
	fmt.Println("building your client for WebAssembly…")
	page, err := serve.ClientPage("/workshop/live/", "./workshop/10-client/wasm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "workshop serve: your client does not build:", err)
		os.Exit(1)
	}
	serve.Main(serve.Exercise{
		N: 10, What: "your client at /workshop/live/, in the room general",
		Routes: map[string]http.Handler{"/workshop/live/": page},
		Panel: serve.Panel{Frame: "/workshop/live/?room=general&username=you", Page: "/#chat", Actions: []serve.Action{
			{Label: "Restart the server", URL: "/api/workshop/restart"},
		}},
	})
}
