// Command wasmclient is the playground page's client, built with
// GOOS=js GOARCH=wasm and loaded by site/main.js. It wires the page's
// elements to package app, which holds all of the logic; this file and
// dom_js.go are the only ones that touch syscall/js.
package main

import (
	"context"

	"wsplay/wasmclient/app"
)

func main() {
	p := newPage()
	loop := app.NewLoop()

	echoURL, err := app.SocketURL(p.location(), "/ws/echo")
	if err != nil {
		p.fail("cannot derive the socket URL: " + err.Error())
		return
	}
	echo := app.NewEcho(loop, echoView{p}, echoURL)
	p.setText("echo-url", echoURL)
	p.on("echo-connect", "click", func(event) { loop.Post(echo.Toggle) })
	p.on("echo-form", "submit", func(e event) {
		e.preventDefault() // the page must not navigate
		mode, input := app.Mode(p.value("echo-mode")), p.value("echo-input")
		loop.Post(func() { echo.Send(mode, input) })
	})

	p.running()
	loop.Post(echo.Connect)
	// The page owns this program's lifetime: the loop runs until the tab
	// goes away, so every callback above stays valid.
	loop.Run(context.Background())
}
