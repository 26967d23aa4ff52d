package solution_test

import (
	"testing"

	"wsplay/workshop/08-dashboard/check"
	"wsplay/workshop/08-dashboard/solution"
)

type board struct{ *solution.Board }

func (b board) Subscribe() check.Viewer { return b.Board.Subscribe() }

func TestChecker(t *testing.T) {
	check.Run(t, func() check.Board { return board{solution.NewBoard()} })
}
