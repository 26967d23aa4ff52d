package solution_test

import (
	"testing"

	"wsplay/server/chat"
	"wsplay/workshop/06-resume/check"
	"wsplay/workshop/06-resume/solution"
)

func TestChecker(t *testing.T) {
	check.Run(t, func() chat.Store { return solution.New() })
}
