package solution_test

import (
	"testing"

	"wsplay/workshop/07-notify/check"
	"wsplay/workshop/07-notify/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() check.Service { return solution.New() })
}
