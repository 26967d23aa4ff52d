package solution_test

import (
	"testing"

	"wsplay/workshop/01-echo/check"
	"wsplay/workshop/01-echo/solution"
)

func TestChecker(t *testing.T) { check.Run(t, solution.Handler()) }
