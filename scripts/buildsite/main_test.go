package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"wsplay/server/servertest"
)

// maxBrotli is the budget for main.wasm.br, which is what a browser
// downloads.
const maxBrotli = 1_250_000

// TestBuild builds the client into a fresh directory (at a low brotli
// quality, to be quick) and checks what the server will serve: both
// variants of each file decompress to it, main.wasm has no symbol table,
// and a second run with nothing changed builds nothing, while a changed
// setting builds again.
func TestBuild(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	out := t.TempDir()
	if err := run([]string{"-out", out, "-brotli-quality", "4"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main.wasm", "wasm_exec.js"} {
		raw := read(t, filepath.Join(out, name))
		zr, err := gzip.NewReader(bytes.NewReader(read(t, filepath.Join(out, name+".gz"))))
		if err != nil {
			t.Fatal(err)
		}
		if gz, err := io.ReadAll(zr); err != nil || !bytes.Equal(gz, raw) {
			t.Errorf("%s.gz does not decompress to %s (%v)", name, name, err)
		}
		br, err := io.ReadAll(brotli.NewReader(bytes.NewReader(read(t, filepath.Join(out, name+".br")))))
		if err != nil || !bytes.Equal(br, raw) {
			t.Errorf("%s.br does not decompress to %s (%v)", name, name, err)
		}
	}
	wasm := read(t, filepath.Join(out, "main.wasm"))
	if !bytes.HasPrefix(wasm, []byte("\x00asm")) {
		t.Fatalf("main.wasm starts with %q, not WebAssembly's magic number", wasm[:4])
	}
	if sections := customSections(t, wasm); sections["name"] {
		t.Errorf("main.wasm has a name section: not built with -ldflags=-s (custom sections %v)", sections)
	}

	t.Run("served", func(t *testing.T) { testServed(t, out, wasm) })

	before, _ := os.Stat(filepath.Join(out, "main.wasm.br"))
	if err := run([]string{"-out", out, "-brotli-quality", "4"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(out, "main.wasm.br")); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a second run with nothing changed built again")
	}
	if err := run([]string{"-out", out, "-brotli-quality", "3"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(out, "main.wasm.br")); after.ModTime().Equal(before.ModTime()) {
		t.Error("a changed brotli quality did not build again")
	}
}

// testServed serves what was built in out as the server serves site/dist,
// and asks for main.wasm as browsers do, over HTTP: each encoding a
// browser accepts gets its variant, with its length, as application/wasm
// (which WebAssembly.instantiateStreaming requires), and an unchanged
// file costs a 304 and no body.
func testServed(t *testing.T, out string, wasm []byte) {
	site := fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}
	for _, name := range []string{"main.wasm", "main.wasm.br", "main.wasm.gz"} {
		site["dist/"+name] = &fstest.MapFile{Data: read(t, filepath.Join(out, name))}
	}
	srv, err := servertest.New(servertest.CommandDefaults(t.TempDir()), servertest.Options{Site: site})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // bodies as sent
	get := func(acceptEncoding, ifNoneMatch string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dist/main.wasm", nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	decoders := map[string]func([]byte) ([]byte, error){
		"br": func(b []byte) ([]byte, error) { return io.ReadAll(brotli.NewReader(bytes.NewReader(b))) },
		"gzip": func(b []byte) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		},
		"": func(b []byte) ([]byte, error) { return b, nil },
	}
	for _, tt := range []struct{ accept, encoding, file string }{
		{"gzip, deflate, br, zstd", "br", "main.wasm.br"}, // Chromium's
		{"gzip, deflate", "gzip", "main.wasm.gz"},
		{"", "", "main.wasm"},
	} {
		resp, body := get(tt.accept, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != tt.encoding {
			t.Errorf("Accept-Encoding %q: %s, Content-Encoding %q; want 200 and %q", tt.accept, resp.Status, resp.Header.Get("Content-Encoding"), tt.encoding)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q, want application/wasm", tt.accept, got)
		}
		if want := int64(len(site["dist/"+tt.file].Data)); resp.ContentLength != want {
			t.Errorf("Accept-Encoding %q: Content-Length %d, want %s's %d", tt.accept, resp.ContentLength, tt.file, want)
		}
		if got, err := decoders[tt.encoding](body); err != nil || !bytes.Equal(got, wasm) {
			t.Errorf("Accept-Encoding %q: the body does not decode to main.wasm (%v)", tt.accept, err)
		}
		if resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
			t.Errorf("Accept-Encoding %q: Vary %q, Cache-Control %q, ETag %q; want Accept-Encoding, no-cache and an ETag", tt.accept,
				resp.Header.Get("Vary"), resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
		}
		again, body := get(tt.accept, resp.Header.Get("ETag"))
		if again.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("Accept-Encoding %q, If-None-Match its ETag: %s with %d bytes, want 304 and none", tt.accept, again.Status, len(body))
		}
	}
}

// TestSizeBudget checks the client the server embeds, site/dist, when it
// is built from the sources as they are (scripts/test builds it first).
func TestSizeBudget(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	dist := filepath.Join("site", "dist")
	stamp, err := sourceStamp(settings(defaultQuality))
	if err != nil {
		t.Fatal(err)
	}
	if old, err := os.ReadFile(filepath.Join(dist, ".stamp")); err != nil || string(old) != stamp {
		t.Skip("site/dist is not built from these sources with the default settings: run go run ./scripts/buildsite")
	}
	info, err := os.Stat(filepath.Join(dist, "main.wasm.br"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > maxBrotli {
		t.Errorf("main.wasm.br is %d bytes, over the budget of %d: see the README's \"The page\" for where the bytes go", info.Size(), maxBrotli)
	}
	t.Logf("main.wasm.br: %d bytes (budget %d)", info.Size(), maxBrotli)
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// customSections returns the names of a WebAssembly module's custom
// sections.
func customSections(t *testing.T, wasm []byte) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	p := wasm[8:]
	for len(p) > 0 {
		id := p[0]
		size, n := uleb(p[1:])
		if n == 0 || uint64(len(p)-1-n) < size {
			t.Fatal("main.wasm: a section runs past the end")
		}
		body := p[1+n : 1+n+int(size)]
		p = p[1+n+int(size):]
		if id == 0 {
			l, m := uleb(body)
			names[string(body[m:m+int(l)])] = true
		}
	}
	return names
}

// uleb decodes an unsigned LEB128 number, returning it and its length
// (0 when b ends first).
func uleb(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}
