//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 4): the starter fails it on purpose.
package slow_test

import (
	"testing"

	slow "wsplay/workshop/04-slow"
	"wsplay/workshop/04-slow/check"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() check.Room { return slow.NewRoom() })
}
