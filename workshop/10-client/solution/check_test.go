package solution_test

import (
	"testing"
	"time"

	"wsplay/shared"
	"wsplay/workshop/10-client/check"
	"wsplay/workshop/10-client/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, func(url string, minWait, maxWait time.Duration, onText func(shared.Message)) check.Client {
		return &solution.Client{URL: url, Min: minWait, Max: maxWait, OnText: onText}
	}, "wsplay/workshop/10-client/solution/wasm")
}
