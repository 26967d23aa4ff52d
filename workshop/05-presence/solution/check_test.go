package solution_test

import (
	"testing"

	"wsplay/server/chat"
	"wsplay/workshop/05-presence/check"
	"wsplay/workshop/05-presence/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() chat.Presence { return solution.New() })
}
