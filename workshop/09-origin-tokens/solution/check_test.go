package solution_test

import (
	"testing"

	"wsplay/workshop/09-origin-tokens/check"
	"wsplay/workshop/09-origin-tokens/solution"
)

func TestChecker(t *testing.T) { check.Run(t, solution.Handler) }
