package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What go test -json prints for a checker with one passing and one
// failing task becomes two tasks, the failing one with its messages.
func TestParseReadsTasksFromGoTestJSON(t *testing.T) {
	t.Parallel()
	out := `{"Action":"run","Test":"TestChecker"}
{"Action":"run","Test":"TestChecker/task_1:_echo_a_text_message"}
{"Action":"output","Test":"TestChecker/task_1:_echo_a_text_message","Output":"=== RUN   TestChecker/task_1:_echo_a_text_message\n"}
{"Action":"pass","Test":"TestChecker/task_1:_echo_a_text_message"}
{"Action":"run","Test":"TestChecker/task_2:_keep_the_frame_type"}
{"Action":"output","Test":"TestChecker/task_2:_keep_the_frame_type","Output":"    check.go:81: Task 2: sent binary and got text\n"}
{"Action":"output","Test":"TestChecker/task_2:_keep_the_frame_type","Output":"    --- FAIL: TestChecker/task_2:_keep_the_frame_type (0.00s)\n"}
{"Action":"fail","Test":"TestChecker/task_2:_keep_the_frame_type"}
{"Action":"fail","Test":"TestChecker"}
not json: ignored
`
	r := parse(strings.NewReader(out))
	require.Len(t, r.tasks, 2)
	assert.Equal(t, task{name: "task 1: echo a text message", passed: true}, r.tasks[0])
	assert.Equal(t, "task 2: keep the frame type", r.tasks[1].name)
	assert.False(t, r.tasks[1].passed)
	assert.Equal(t, []string{"check.go:81: Task 2: sent binary and got text"}, r.tasks[1].output)
	assert.False(t, r.passed())
	assert.Equal(t, 1, r.failing())

	var shown bytes.Buffer
	r.print(&shown, exercise{n: 1, slug: "echo"}, false)
	assert.Contains(t, shown.String(), "FAIL task 2: keep the frame type\n         Task 2: sent binary and got text\n")
	assert.Contains(t, shown.String(), "1 of 2 tasks pass.")
}

// A run with no task at all (it did not build) never counts as passing.
func TestNoTasksIsNotAPass(t *testing.T) {
	t.Parallel()
	assert.False(t, result{}.passed())
	assert.False(t, result{buildFailed: true, tasks: []task{{passed: true}}}.passed())
}

func TestPickSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	ex := []exercise{{n: 1, slug: "echo", dir: "workshop/01-echo"}}
	_, err := pick(ex, nil)
	assert.ErrorContains(t, err, "which exercise")
	_, err = pick(ex, []string{"one"})
	assert.ErrorContains(t, err, `"one" is not an exercise number`)
	_, err = pick(ex, []string{"7"})
	assert.ErrorContains(t, err, "there is no exercise 7")
	e, err := pick(ex, []string{"1"})
	require.NoError(t, err)
	assert.Equal(t, "echo", e.slug)
}

// A race report becomes one line that counts them; the checker's own
// words stay.
func TestRaceReportsAreCounted(t *testing.T) {
	t.Parallel()
	kept, races := withoutRaceReports([]string{
		"==================", "WARNING: DATA RACE", "Read at 0x00c by goroutine 18:", "==================",
		"==================", "WARNING: DATA RACE", "Write at 0x00c by goroutine 17:", "==================",
		"check.go:160: Task 1: Send panicked", "testing.go:1712: race detected during execution of test",
	})
	assert.Equal(t, 2, races)
	assert.Equal(t, []string{"check.go:160: Task 1: Send panicked"}, kept)
}

// A panic keeps its first line and the checker's messages, not its dump.
func TestGoroutineDumpsAreDropped(t *testing.T) {
	t.Parallel()
	kept, _ := withoutRaceReports([]string{
		"check.go:60: Task 1: Publish did not return within 2s",
		"panic: test timed out after 2m0s",
		"goroutine 5 [running]:", "testing.(*M).startAlarm.func1()", "/usr/local/go/src/testing/testing.go:2802 +0x605",
		"check.go:48: Hint for task 1: a mailbox of one",
	})
	assert.Equal(t, []string{"check.go:60: Task 1: Publish did not return within 2s", "panic: test timed out after 2m0s", "check.go:48: Hint for task 1: a mailbox of one"}, kept)
}

// watch checks once, then again after a file of the exercise is saved,
// and not while nothing changes.
func TestWatchChecksAgainOnSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.go")
	require.NoError(t, os.WriteFile(file, []byte("package hub\n"), 0o644))
	e := exercise{n: 3, slug: "hub", dir: dir}
	checks := make(chan struct{}, 10)
	stop := make(chan struct{})
	ended := make(chan struct{})
	var out bytes.Buffer // written by watch only, read after it ends
	go func() {
		defer close(ended)
		e.watch(&out, 10*time.Millisecond, stop, func() { checks <- struct{}{} })
	}()
	<-checks
	select {
	case <-checks:
		t.Fatal("checked again with nothing saved")
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, os.WriteFile(file, []byte("package hub // saved\n"), 0o644))
	select {
	case <-checks:
	case <-time.After(10 * time.Second):
		t.Fatal("a saved file was not checked again")
	}
	close(stop)
	<-ended
	assert.Contains(t, out.String(), "save a file to check again")
}

// Every exercise has a serve command: the playground with its piece.
func TestEveryExerciseServes(t *testing.T) {
	t.Parallel()
	exercises, err := find(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.Len(t, exercises, 10)
	for _, e := range exercises {
		_, err := os.Stat(filepath.Join(e.dir, "serve", "main.go"))
		assert.NoError(t, err, "exercise %d", e.n)
	}
}
