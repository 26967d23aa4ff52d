//go:build js

// Command wasm runs your client compiled to WebAssembly, in the page the
// checker's task 4 opens in headless Chromium (see package wasmrun).
package main

import (
	"time"

	"wsplay/shared"
	client "wsplay/workshop/10-client"
	"wsplay/workshop/internal/wasmrun"
)

func main() {
	wasmrun.Main(func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) wasmrun.Client {
		return &client.Client{URL: url, Min: minWait, Max: maxWait, OnText: onText}
	})
}
