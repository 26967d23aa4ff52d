// Command buildsite builds the playground's WebAssembly client into
// site/dist, where the server embeds it from:
//
//   - main.wasm, the Go client, built with GOOS=js GOARCH=wasm and
//     -ldflags=-s -w (no symbol table or DWARF: the browser uses neither)
//     and the project's own packages without inlining (see gcflags);
//   - wasm_exec.js, copied from the toolchain that built main.wasm (the two
//     must match);
//   - a .gz (gzip -9) and a .br (brotli quality 11) variant of each, which
//     the server sends to browsers that accept them.
//
// Brotli at quality 11 takes tens of seconds for main.wasm, so it is done
// here, once per change: buildsite does nothing when the client's sources,
// go.mod, go.sum, the Go version and these settings are unchanged since
// the last build. Run it from the module root:
//
//	go run ./scripts/buildsite [-out site/dist] [-force]
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "buildsite:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("buildsite", flag.ContinueOnError)
	out := fs.String("out", filepath.Join("site", "dist"), "output `directory`")
	force := fs.Bool("force", false, "build even when nothing changed")
	quality := fs.Int("brotli-quality", defaultQuality, "brotli `quality`, 0-11: 9 is about 10% larger and 15 times faster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run me from the module root (where go.mod is)")
	}

	stamp, err := sourceStamp(settings(*quality))
	if err != nil {
		return err
	}
	stampFile := filepath.Join(*out, ".stamp")
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp && !*force && outputsExist(*out) {
		fmt.Println("buildsite: the client is up to date")
		return nil
	}

	start := time.Now()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	wasm := filepath.Join(*out, "main.wasm")
	build := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-gcflags="+gcflags, "-o", wasm, "./wasmclient")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the client: %w", err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("wasm_exec.js from the toolchain: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "wasm_exec.js"), execJS, 0o644); err != nil {
		return err
	}
	// The two files at once: brotli is most of the build's time.
	errs := make(chan error, 2)
	for _, name := range []string{"main.wasm", "wasm_exec.js"} {
		go func() { errs <- compress(filepath.Join(*out, name), *quality) }()
	}
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
		return err
	}
	fmt.Printf("buildsite: built %s in %v\n", *out, time.Since(start).Round(10*time.Millisecond))
	return nil
}

// ldflags strips the symbol table and DWARF from main.wasm: about 2% of
// it, raw or compressed.
const ldflags = "-s -w"

// gcflags builds the project's own packages without inlining: main.wasm
// is 0.6% larger raw but 7 KB smaller after brotli (fewer near-copies of
// the same code for it to tell apart), and what the client does (views,
// one socket's messages at a time) is not work inlining speeds up that a
// page could notice. The standard library and coder/websocket keep it.
const gcflags = "wsplay/...=-l"

// defaultQuality is brotli's best: the build is slower, once per change,
// and every page load is faster.
const defaultQuality = 11

// settings describes the build's settings, for the stamp.
func settings(quality int) string {
	return fmt.Sprintf("ldflags %s, gcflags %s, brotli %d", ldflags, gcflags, quality)
}

// sourceStamp hashes everything the client build depends on that can
// change in this repository: its Go files, go.mod, go.sum, the Go version,
// and settings, this command's flags.
func sourceStamp(settings string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), settings)
	for _, dir := range []string{"wasmclient", "shared"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			return hashFile(h, path)
		})
		if err != nil {
			return "", err
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h interface{ Write([]byte) (int, error) }, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(path), len(b))
	h.Write(b)
	return nil
}

func outputsExist(dir string) bool {
	for _, name := range []string{"main.wasm", "main.wasm.gz", "main.wasm.br", "wasm_exec.js", "wasm_exec.js.gz", "wasm_exec.js.br"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// compress writes path.gz and path.br beside path.
func compress(path string, quality int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return err
	}
	var br bytes.Buffer
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: quality, LGWin: 24})
	bw.Write(data)
	if err := bw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path+".gz", gz.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(path+".br", br.Bytes(), 0o644)
}
