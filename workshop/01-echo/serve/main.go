// Command serve runs the playground with your echo handler at /ws/echo:
// scripts/workshop serve 1, then open the page and use the Echo panel.
package main

import (
	"wsplay/server/playground"
	echo "wsplay/workshop/01-echo"
	"wsplay/workshop/internal/serve"
)

func main() {
	serve.Main(serve.Exercise{
		N: 1, What: "your echo handler at /ws/echo (the Echo panel)",
		Deps:  playground.Deps{Echo: echo.Handler()},
		Panel: serve.Panel{Page: "/#echo"},
	})
}
