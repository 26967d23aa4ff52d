//go:build js

// Package wasmrun is the page side of exercise 10's client compiled to
// WebAssembly, in one of two pages.
//
// The checker's (task 4): the page's query names the room (url) and
// where to ask what to send (control, whose answer is a count, a space
// and the line); every text message the client hands on is printed, to
// the console, as "text CONTENT".
//
// The live page of scripts/workshop serve 10, when the query has no
// control: the client joins the room the query's room and username name
// on the page's own server, lists what it hands on in the page's
// ol#lines, and sends what is typed in form#send's input.
package wasmrun

import (
	"cmp"
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
	if q.Get("control") == "" {
		live(q, newClient)
		return
	}
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

// live runs the client in the live page, for good.
func live(q url.Values, newClient func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) Client) {
	doc := js.Global().Get("document")
	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	room, user := cmp.Or(q.Get("room"), "workshop"), cmp.Or(q.Get("username"), "you")
	addr := scheme + loc.Get("host").String() + "/ws/chat?" + url.Values{"room": {room}, "username": {user}}.Encode()
	lines := doc.Call("getElementById", "lines")
	texts := make(chan shared.Message, 256)
	c := newClient(addr, 500*time.Millisecond, 8*time.Second, func(m shared.Message) {
		select {
		case texts <- m:
		default: // the page cannot keep up: this view skips a line, the client has it
		}
	})
	ctx := context.Background()
	go c.Run(ctx)
	input := doc.Call("querySelector", "#send input")
	submit := js.FuncOf(func(_ js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		if line := strings.TrimSpace(input.Get("value").String()); line != "" {
			input.Set("value", "")
			go c.Send(ctx, line)
		}
		return nil
	})
	doc.Call("getElementById", "send").Call("addEventListener", "submit", submit)
	doc.Call("getElementById", "state").Set("textContent", "your client is in room "+room+" as "+user)
	for m := range texts {
		li := doc.Call("createElement", "li")
		li.Set("textContent", fmt.Sprintf("#%d %s: %s", m.Seq, m.Username, m.Content))
		lines.Call("append", li)
	}
}
