//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 7): the starter fails it on purpose.
package notify_test

import (
	"testing"

	notify "wsplay/workshop/07-notify"
	"wsplay/workshop/07-notify/check"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() check.Service { return notify.New() })
}
