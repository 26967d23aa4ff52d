package dom

import (
	"context"
	"errors"
	"syscall/js"
)

// Post is the app.Poster of the page: a JSON POST through the browser's
// fetch, with the page's cookies. It keeps net/http's client, 5 MB of
// WebAssembly, out of the page.
func Post(ctx context.Context, url string, body []byte) (status int, answer []byte, err error) {
	init := map[string]any{
		"method":      "POST",
		"body":        string(body),
		"headers":     map[string]any{"Content-Type": "application/json"},
		"credentials": "same-origin",
	}
	resp, err := await(ctx, js.Global().Call("fetch", url, init))
	if err != nil {
		return 0, nil, err
	}
	text, err := await(ctx, resp.Call("text"))
	if err != nil {
		return 0, nil, err
	}
	return resp.Get("status").Int(), []byte(text.String()), nil
}

// LoaderLogin waits for the login site/main.js starts as the page loads,
// or for ctx, and reports whether there was one.
func LoaderLogin(ctx context.Context) bool {
	login := js.Global().Get("wsplayLogin")
	if login.Type() != js.TypeObject {
		return false
	}
	await(ctx, login)
	return true
}

// await waits for a promise to settle, or for ctx. The promise's
// callbacks only hand its outcome to a buffered channel, and release
// themselves when it settles, even after ctx is done.
func await(ctx context.Context, promise js.Value) (js.Value, error) {
	type outcome struct {
		v   js.Value
		err error
	}
	done := make(chan outcome, 1) // a promise settles once
	var resolved, rejected js.Func
	settle := func(o outcome) any {
		done <- o
		release(resolved)
		release(rejected)
		return nil
	}
	resolved = funcOf(func(_ js.Value, args []js.Value) any { return settle(outcome{v: args[0]}) })
	rejected = funcOf(func(_ js.Value, args []js.Value) any {
		return settle(outcome{err: errors.New("fetch: " + args[0].Call("toString").String())})
	})
	promise.Call("then", resolved, rejected)
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
		return js.Value{}, ctx.Err()
	}
}
