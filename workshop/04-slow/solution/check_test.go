package solution_test

import (
	"testing"

	"wsplay/workshop/04-slow/check"
	"wsplay/workshop/04-slow/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() check.Room { return solution.NewRoom() })
}
