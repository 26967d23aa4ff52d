//go:build workshop

// The checker runs on your code only when asked (scripts/workshop check
// 9): the starter fails it on purpose.
package auth_test

import (
	"testing"

	auth "wsplay/workshop/09-origin-tokens"
	"wsplay/workshop/09-origin-tokens/check"
)

func TestChecker(t *testing.T) { check.Run(t, auth.Handler) }
