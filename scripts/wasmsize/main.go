// Command wasmsize shows where main.wasm's bytes go: it builds the client
// as scripts/buildsite does, but keeping the symbol names, and prints a
// Markdown table of the packages with the most code, from the size of each
// function in the module's code section and its name in the name section.
// (go tool nm cannot read WebAssembly, so this reads the module itself.)
// The data section (strings, type data, the runtime's tables) has no
// names, and is one line. From the module root:
//
//	go run ./scripts/wasmsize [-n 25]
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

func run() error {
	top := flag.Int("n", 25, "how many `packages` (or functions, with -funcs) to list; the rest are one line")
	funcsOf := flag.String("funcs", "", "list the largest functions of this `package` (such as wsplay/wasmclient/dom) instead")
	flag.Parse()
	dir, err := os.MkdirTemp("", "wsplay-wasmsize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	wasm := filepath.Join(dir, "main.wasm")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-w", "-o", wasm, "./wasmclient")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the client: %w", err)
	}
	list := exec.Command("go", "list", "-deps", "./wasmclient")
	list.Env = build.Env
	pkgs, err := list.Output()
	if err != nil {
		return fmt.Errorf("go list: %w", err)
	}
	b, err := os.ReadFile(wasm)
	if err != nil {
		return err
	}
	m, err := parse(b)
	if err != nil {
		return err
	}

	// The linker writes a function's package path with _ for /.
	paths := map[string]string{}
	for p := range strings.FieldsSeq(string(pkgs)) {
		paths[strings.ReplaceAll(p, "/", "_")] = p
	}
	bytesOf := map[string]int{}
	for i, size := range m.bodies {
		name := m.names[m.imports+i]
		if pkg := packageOf(name, paths); *funcsOf == "" {
			bytesOf[pkg] += size
		} else if pkg == *funcsOf {
			bytesOf[name] += size
		}
	}
	type row struct {
		pkg   string
		bytes int
	}
	var rows []row
	for p, n := range bytesOf {
		rows = append(rows, row{p, n})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(b.bytes-a.bytes, strings.Compare(a.pkg, b.pkg)) })

	total := len(b)
	fmt.Printf("main.wasm, built with -ldflags=-w: %s; code %s, data %s, the rest (names, imports, tables) %s.\n\n",
		kb(total), kb(m.code), kb(m.data), kb(total-m.code-m.data))
	what := "Package"
	if *funcsOf != "" {
		what = "Function of " + *funcsOf
	}
	fmt.Printf("| %s | Code | Share of code |\n", what)
	fmt.Println("|---|---:|---:|")
	rest, restN := 0, 0
	for i, r := range rows {
		if i >= *top {
			rest += r.bytes
			restN++
			continue
		}
		fmt.Printf("| `%s` | %s | %.1f%% |\n", r.pkg, kb(r.bytes), 100*float64(r.bytes)/float64(m.code))
	}
	if restN > 0 {
		fmt.Printf("| %d others | %s | %.1f%% |\n", restN, kb(rest), 100*float64(rest)/float64(m.code))
	}
	return nil
}

// packageOf returns the package of a function's name in the name section:
// the longest known path it starts with, then a dot. The runtime's
// functions written in assembly and the compiler's type equality
// functions (type_.eq.…) have none.
func packageOf(name string, paths map[string]string) string {
	best := ""
	for i := range len(name) {
		if name[i] == '.' {
			if _, ok := paths[name[:i]]; ok {
				best = name[:i]
			}
		}
	}
	if best == "" {
		return "(no package: assembly, type equality)"
	}
	return paths[best]
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

// module is what wasmsize needs of a WebAssembly module.
type module struct {
	imports    int            // imported functions, which come first in the index space
	bodies     []int          // the size of each function defined here
	names      map[int]string // by function index
	code, data int            // the sizes of the code and data sections
}

// parse reads a module's sections: imports, code, data, and the name
// section's function names.
func parse(b []byte) (module, error) {
	m := module{names: map[int]string{}}
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return m, errors.New("not a WebAssembly module")
	}
	r := reader{b: b[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := reader{b: r.bytes(int(r.uint()))}
		switch id {
		case 0: // custom
			if sec.name() == "name" {
				for len(sec.b) > 0 && sec.err == nil {
					sub, body := sec.byte(), reader{b: sec.bytes(int(sec.uint()))}
					if sub != 1 { // function names
						continue
					}
					for range body.uint() {
						i := int(body.uint())
						m.names[i] = body.name()
					}
					sec.err = cmp.Or(sec.err, body.err)
				}
			}
		case 2: // imports
			for range sec.uint() {
				sec.name() // module
				sec.name() // field
				switch kind := sec.byte(); kind {
				case 0: // a function: its type
					sec.uint()
					m.imports++
				default:
					return m, fmt.Errorf("an import of kind %d, which Go does not emit", kind)
				}
			}
		case 10: // code
			m.code = len(sec.b)
			for range sec.uint() {
				n := int(sec.uint())
				sec.bytes(n)
				m.bodies = append(m.bodies, n)
			}
		case 11: // data
			m.data = len(sec.b)
		}
		if sec.err != nil {
			return m, sec.err
		}
	}
	return m, r.err
}

// reader reads a module's encoding; the first error sticks.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("the module ends inside a section")

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = cmp.Or(r.err, errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uint reads an unsigned LEB128 number.
func (r *reader) uint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	r.err = cmp.Or(r.err, errors.New("a number is too long"))
	return 0
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err = cmp.Or(r.err, errShort)
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) name() string { return string(r.bytes(int(r.uint()))) }
