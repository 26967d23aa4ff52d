//go:build js && wasm

// Command wasmecho is the smallest browser client of wsplay: a Go program
// compiled to WebAssembly that opens /ws/echo on the server that served
// its page, sends one message and shows the answer. The README's section
// "A Go client in the browser" builds and serves it step by step.
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o examples/wasmecho/main.wasm ./examples/wasmecho
//	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" examples/wasmecho/
//	scripts/run -site-dir examples/wasmecho
package main

import (
	"context"
	"errors"
	"syscall/js"
	"time"

	"github.com/coder/websocket"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := echo(ctx, "hello from Go"); err != nil {
		show("error: " + err.Error())
	}
}

// echo sends msg to the echo endpoint of the page's own server and shows
// what comes back.
func echo(ctx context.Context, msg string) error {
	// The page's own origin: a page of another origin is refused (403)
	// unless the server lists it in -allowed-origins.
	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	c, _, err := websocket.Dial(ctx, scheme+loc.Get("host").String()+"/ws/echo", nil)
	if err != nil {
		// In the browser a refused handshake and a dead server look the
		// same: the WebSocket API gives no status.
		return err
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return err
	}
	_, answer, err := c.Read(ctx)
	if err != nil {
		return err
	}
	show("echo said: " + string(answer))
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// show adds a line of text to the page.
func show(line string) {
	doc := js.Global().Get("document")
	p := doc.Call("createElement", "p")
	p.Set("textContent", line)
	doc.Get("body").Call("appendChild", p)
}
