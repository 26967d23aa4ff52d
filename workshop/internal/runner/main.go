// Command runner is scripts/workshop: it lists the workshop's exercises
// with their state, checks a learner's code (or the reference solution)
// task by task, and restores a starter.
//
//	scripts/workshop list
//	scripts/workshop check N
//	scripts/workshop check -solution N
//	scripts/workshop watch N     (checks again each time you save)
//	scripts/workshop serve N [-addr host:port]
//	scripts/workshop reset N
//	scripts/workshop pages       (writes the lessons' pages into site/workshop)
//	scripts/workshop verify      (CI: every starter fails, every solution passes)
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsplay/workshop"
	"wsplay/workshop/internal/lessons"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workshop:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

const usage = `usage:
  scripts/workshop list                 every exercise and its state
  scripts/workshop check N              check your code for exercise N, task by task
  scripts/workshop check -solution N    the same on the reference solution
  scripts/workshop watch N              check exercise N again each time you save it (Ctrl-C stops)
  scripts/workshop serve N              the playground with your piece in it (-addr to choose where)
  scripts/workshop reset N              restore exercise N's starter (your changes are lost)
  scripts/workshop verify               every starter fails its checker, every solution passes`

func run(args []string, out io.Writer) (int, error) {
	if len(args) == 0 {
		return 2, errors.New(usage)
	}
	exercises, err := find("workshop")
	if err != nil {
		return 2, err
	}
	switch args[0] {
	case "list":
		for _, e := range exercises {
			fmt.Fprintf(out, "%2d  %-24s %s\n", e.n, e.slug, e.state())
		}
		return 0, nil
	case "check":
		fs := flag.NewFlagSet("check", flag.ContinueOnError)
		solution := fs.Bool("solution", false, "check the reference solution instead of your code")
		if err := fs.Parse(args[1:]); err != nil {
			return 2, err
		}
		e, err := pick(exercises, fs.Args())
		if err != nil {
			return 2, err
		}
		r := e.check(*solution)
		r.print(out, e, *solution)
		if !r.passed() {
			return 1, nil
		}
		return 0, nil
	case "watch":
		e, err := pick(exercises, args[1:])
		if err != nil {
			return 2, err
		}
		e.watch(out, time.Second, nil, func() { e.check(false).print(out, e, false) })
		return 0, nil
	case "serve":
		if len(args) < 2 {
			return 2, errors.New("which exercise? give its number, as in: scripts/workshop serve 5")
		}
		e, err := pick(exercises, args[1:2])
		if err != nil {
			return 2, err
		}
		return e.serve(args[2:])
	case "reset":
		e, err := pick(exercises, args[1:])
		if err != nil {
			return 2, err
		}
		return 0, e.reset(out)
	case "pages":
		return writePages(out)
	case "verify":
		// Two at a time per processor: most of a check is compiling.
		type pair struct{ starter, solution result }
		checked := make([]pair, len(exercises))
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.NumCPU())
		for i, e := range exercises {
			for _, solution := range []bool{false, true} {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					if solution {
						checked[i].solution = e.check(true)
					} else {
						checked[i].starter = e.check(false)
					}
				})
			}
		}
		wg.Wait()
		bad := 0
		for i, e := range exercises {
			starter, solution := checked[i].starter, checked[i].solution
			switch {
			case starter.buildFailed:
				fmt.Fprintf(out, "%2d %s: the starter does not build:\n%s\n", e.n, e.slug, starter.output)
				bad++
			case starter.passed():
				fmt.Fprintf(out, "%2d %s: the starter passes its checker: a broken exercise\n", e.n, e.slug)
				bad++
			case !solution.passed():
				fmt.Fprintf(out, "%2d %s: the solution fails its checker:\n", e.n, e.slug)
				solution.print(out, e, true)
				bad++
			default:
				fmt.Fprintf(out, "%2d %s: the starter fails %d of %d tasks, the solution passes them all\n", e.n, e.slug, starter.failing(), len(solution.tasks))
			}
		}
		if bad > 0 {
			return 1, fmt.Errorf("%d exercises are broken", bad)
		}
		return 0, nil
	}
	return 2, errors.New(usage)
}

// writePages renders the lessons into site/workshop, for the page to
// serve under /workshop/.
func writePages(out io.Writer) (int, error) {
	pages, err := lessons.Render(workshop.Lessons)
	if err != nil {
		return 2, err
	}
	if err := os.RemoveAll(filepath.Join("site", lessons.Dir)); err != nil {
		return 2, err
	}
	for name, data := range pages {
		file := filepath.Join("site", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return 2, err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return 2, err
		}
	}
	fmt.Fprintf(out, "wrote %d files into site/%s\n", len(pages), lessons.Dir)
	return 0, nil
}

// exercise is one folder workshop/NN-slug.
type exercise struct {
	n    int
	slug string
	dir  string
}

var exerciseDir = regexp.MustCompile(`^(\d\d)-([a-z0-9-]+)$`)

func find(root string) ([]exercise, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("run it from the project's root (scripts/workshop does): %w", err)
	}
	var out []exercise
	for _, d := range entries {
		m := exerciseDir.FindStringSubmatch(d.Name())
		if !d.IsDir() || m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		out = append(out, exercise{n: n, slug: m[2], dir: filepath.Join(root, d.Name())})
	}
	return out, nil
}

func pick(exercises []exercise, args []string) (exercise, error) {
	if len(args) != 1 {
		return exercise{}, errors.New("which exercise? give its number, as in: scripts/workshop check 1")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return exercise{}, fmt.Errorf("%q is not an exercise number", args[0])
	}
	i := slices.IndexFunc(exercises, func(e exercise) bool { return e.n == n })
	if i < 0 {
		return exercise{}, fmt.Errorf("there is no exercise %d: scripts/workshop list shows them", n)
	}
	return exercises[i], nil
}

// starterFiles are the files the learner edits: the exercise folder's own
// Go files.
func (e exercise) starterFiles() []string {
	files, _ := filepath.Glob(filepath.Join(e.dir, "*.go"))
	return files
}

// state is what list shows.
func (e exercise) state() string {
	if !e.changed() {
		return "not started"
	}
	r := e.check(false)
	switch {
	case r.buildFailed:
		return "does not build"
	case r.passed():
		return "passing"
	}
	for _, t := range r.tasks {
		if !t.passed {
			return "failing " + t.name
		}
	}
	return "failing"
}

// changed reports whether the learner has edited the starter, as git
// sees it; without git every exercise counts as started.
func (e exercise) changed() bool {
	cmd := exec.Command("git", append([]string{"diff", "--quiet", "HEAD", "--"}, e.starterFiles()...)...)
	err := cmd.Run()
	var exit *exec.ExitError
	return err != nil && (!errors.As(err, &exit) || exit.ExitCode() == 1)
}

// watch runs check (the learner's code checked, and printed), then
// again each time one of the exercise's files changes (looked at every
// poll), until stop is closed (nil: for good).
func (e exercise) watch(out io.Writer, poll time.Duration, stop <-chan struct{}, check func()) {
	for {
		seen := e.stamp()
		fmt.Fprintf(out, "\n%s checking exercise %d…\n", time.Now().Format("15:04:05"), e.n)
		check()
		fmt.Fprintf(out, "watching %s: save a file to check again (Ctrl-C stops)\n", e.dir)
		for e.stamp() == seen {
			select {
			case <-stop:
				return
			case <-time.After(poll):
			}
		}
	}
}

// stamp sums up the exercise's own Go files as they are now: their
// names, sizes and times of change.
func (e exercise) stamp() string {
	var b strings.Builder
	for _, f := range e.starterFiles() {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// serve runs the exercise's serve command, when it has one: the
// playground with the learner's piece in it. The page is built first, as
// scripts/run does.
func (e exercise) serve(args []string) (int, error) {
	dir := filepath.Join(e.dir, "serve")
	if _, err := os.Stat(dir); err != nil {
		return 2, fmt.Errorf("exercise %d has no serve command (%s is missing)", e.n, dir)
	}
	for _, step := range [][]string{{"run", "./scripts/buildsite"}, append([]string{"run", "./" + dir}, args...)} {
		cmd := exec.Command("go", step...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return exit.ExitCode(), nil
			}
			return 2, err
		}
	}
	return 0, nil
}

func (e exercise) reset(out io.Writer) error {
	cmd := exec.Command("git", append([]string{"checkout", "HEAD", "--"}, e.starterFiles()...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("restore the starter with git: %w", err)
	}
	fmt.Fprintf(out, "exercise %d is back to its starter\n", e.n)
	return nil
}

// result is one run of an exercise's checker.
type result struct {
	tasks       []task
	buildFailed bool
	output      string // what go test printed besides the tasks
}

type task struct {
	name    string // "task 1: echo a text message"
	passed  bool
	skipped bool // counted as passed: the checker could not run it here (no browser)
	output  []string
}

func (r result) passed() bool {
	return !r.buildFailed && len(r.tasks) > 0 && r.failing() == 0
}

func (r result) failing() int {
	n := 0
	for _, t := range r.tasks {
		if !t.passed {
			n++
		}
	}
	return n
}

// check runs the checker with the race detector, on the learner's code
// (the starter's test carries the build tag workshop) or on the solution.
func (e exercise) check(solution bool) result {
	pkg, tags := "./"+e.dir, []string{"-tags", "workshop"}
	if solution {
		pkg, tags = "./"+filepath.Join(e.dir, "solution"), nil
	}
	args := append([]string{"test", "-race", "-count=1", "-timeout", "120s", "-json", "-run", "^TestChecker$"}, tags...)
	cmd := exec.Command("go", append(args, pkg)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := parse(&stdout)
	r.output = strings.TrimSpace(stderr.String() + "\n" + r.output)
	if err != nil && len(r.tasks) == 0 {
		r.buildFailed = true
	}
	return r
}

// event is one line of go test -json.
type event struct {
	Action string
	Test   string
	Output string
}

func parse(r io.Reader) result {
	var res result
	byName := map[string]int{}
	var other strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		sub, ok := strings.CutPrefix(ev.Test, "TestChecker/")
		if !ok {
			if ev.Action == "output" && !strings.HasPrefix(ev.Output, "=== ") && !strings.HasPrefix(ev.Output, "--- ") {
				other.WriteString(ev.Output)
			}
			continue
		}
		name := strings.ReplaceAll(sub, "_", " ")
		i, seen := byName[name]
		if !seen {
			i = len(res.tasks)
			byName[name] = i
			res.tasks = append(res.tasks, task{name: name})
		}
		switch ev.Action {
		case "pass":
			res.tasks[i].passed = true
		case "skip":
			res.tasks[i].passed, res.tasks[i].skipped = true, true
		case "output":
			line := strings.TrimSpace(ev.Output)
			if line != "" && !strings.HasPrefix(line, "=== ") && !strings.HasPrefix(line, "--- ") {
				res.tasks[i].output = append(res.tasks[i].output, line)
			}
		}
	}
	res.output = other.String()
	return res
}

func (r result) print(out io.Writer, e exercise, solution bool) {
	whose := "your code"
	if solution {
		whose = "the reference solution"
	}
	fmt.Fprintf(out, "exercise %d, %s (%s):\n", e.n, e.slug, whose)
	if r.buildFailed {
		fmt.Fprintf(out, "  it does not build:\n%s\n", indent(r.output))
		return
	}
	for _, t := range r.tasks {
		mark := "ok  "
		switch {
		case !t.passed:
			mark = "FAIL"
		case t.skipped:
			mark = "skip"
		}
		fmt.Fprintf(out, "  %s %s\n", mark, t.name)
		if !t.passed {
			lines, races := withoutRaceReports(t.output)
			if races > 0 {
				fmt.Fprintf(out, "         The race detector found %d data race(s): goroutines touched the same memory at once, with no lock or channel between them (to read the reports: go test -race -tags workshop ./%s).\n", races, e.dir)
			}
			for _, line := range lines {
				fmt.Fprintf(out, "         %s\n", strings.TrimSpace(trimFileLine(line)))
			}
		}
	}
	fmt.Fprintf(out, "%d of %d tasks pass.\n", len(r.tasks)-r.failing(), len(r.tasks))
}

// withoutRaceReports drops the race detector's reports (each between two
// lines of "=") from a task's output, and counts them, and drops the
// goroutine dump of a panic or a timeout after its first line: the
// checker's own messages say what went wrong in words.
func withoutRaceReports(lines []string) (kept []string, races int) {
	in, stacks := false, false
	for _, line := range lines {
		if goroutineHeader.MatchString(line) {
			stacks = true // a panic's or a timeout's dump: only the checker's own lines from here
		}
		switch {
		case stacks && !strings.Contains(line, "Task ") && !strings.Contains(line, "Hint for task"):
		case strings.HasPrefix(line, "=================="):
			in = !in
		case in:
			if strings.Contains(line, "WARNING: DATA RACE") {
				races++
			}
		case strings.HasSuffix(line, "race detected during execution of test"):
		default:
			kept = append(kept, line)
		}
	}
	return kept, races
}

var goroutineHeader = regexp.MustCompile(`^goroutine \d+ \[`)

// trimFileLine drops the "check.go:52: " that t.Log puts first.
func trimFileLine(s string) string {
	if i := strings.Index(s, ": "); i > 0 && strings.Contains(s[:i], ".go:") {
		return s[i+2:]
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
