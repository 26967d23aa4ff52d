//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 10): the starter fails it on purpose.
package client_test

import (
	"testing"
	"time"

	"wsplay/shared"
	client "wsplay/workshop/10-client"
	"wsplay/workshop/10-client/check"
)

func TestChecker(t *testing.T) {
	check.Run(t, func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) check.Client {
		return &client.Client{URL: url, Min: minWait, Max: maxWait, OnText: onText}
	}, "wsplay/workshop/10-client/wasm")
}
