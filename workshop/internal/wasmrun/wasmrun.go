//go:build js

// Package wasmrun is the page side of exercise 10's task 4: the
// exercise's client compiled to WebAssembly, run in the page the checker
// opens. The page's query names the room (url) and where to ask what to
// send (control, whose answer is a count, a space and the line); every
// text message the client hands on is printed, to the console, as
// "text CONTENT".
package wasmrun

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall/js"
	"time"

	"wsplay/shared"
)

// Client is the exercise's client.
type Client interface {
	Run(ctx context.Context) error
	Send(ctx context.Context, text string)
}

// Main runs the client newClient makes, for good.
func Main(newClient func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) Client) {
	q, _ := url.ParseQuery(strings.TrimPrefix(js.Global().Get("location").Get("search").String(), "?"))
	c := newClient(q.Get("url"), 100*time.Millisecond, 800*time.Millisecond, func(m shared.Message) { fmt.Println("text " + m.Content) })
	ctx := context.Background()
	go c.Run(ctx)
	sent := "0"
	for range time.Tick(50 * time.Millisecond) {
		resp, err := http.Get(q.Get("control"))
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n, line, ok := strings.Cut(string(body), " "); ok && n != sent {
			sent = n
			c.Send(ctx, line)
		}
	}
}
