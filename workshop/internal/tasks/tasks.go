// Package tasks is how the workshop's checkers run a lesson's numbered
// task: a subtest named "task N: TITLE", which scripts/workshop reads,
// with the task's hint logged when it fails.
package tasks

import (
	"fmt"
	"testing"
)

// Run runs f as task n, titled title; when it fails (a Fatal included),
// hint is logged after the failure.
func Run(t *testing.T, n int, title, hint string, f func(t *testing.T)) {
	t.Helper()
	t.Run(fmt.Sprintf("task %d: %s", n, title), func(t *testing.T) {
		defer func() {
			if t.Failed() {
				t.Logf("Hint for task %d: %s.", n, hint)
			}
		}()
		f(t)
	})
}
