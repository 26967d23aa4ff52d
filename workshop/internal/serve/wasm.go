package serve

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildWasm builds the main package pkg for the browser (GOOS=js
// GOARCH=wasm) and returns it with the Go release's wasm_exec.js, which
// a page loads first. A build error carries the compiler's words.
func BuildWasm(pkg string) (wasm, execJS []byte, err error) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	dir, err := os.MkdirTemp("", "wsplay-wasm-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "client.wasm")
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := build.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("GOOS=js GOARCH=wasm go build %s: %w\n%s", pkg, err, msg)
	}
	if wasm, err = os.ReadFile(out); err != nil {
		return nil, nil, err
	}
	execJS, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	return wasm, execJS, err
}

// ClientPage serves exercise 10's live page under prefix (as
// "/workshop/live/"): the client built from pkg, running in a page that
// shows what it hands on and sends what is typed (see package wasmrun).
func ClientPage(prefix, pkg string) (http.Handler, error) {
	wasm, execJS, err := BuildWasm(pkg)
	if err != nil {
		return nil, err
	}
	files := map[string]struct {
		typ  string
		data []byte
	}{
		"":             {"text/html; charset=utf-8", []byte(clientPage)},
		"start.js":     {"text/javascript; charset=utf-8", []byte(clientStart)},
		"wasm_exec.js": {"text/javascript; charset=utf-8", execJS},
		"client.wasm":  {"application/wasm", wasm},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[strings.TrimPrefix(r.URL.Path, prefix)]
		if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.typ)
		h.Set("Cache-Control", "no-store") // a rebuilt client is the one loaded
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors 'self'")
		w.Write(f.data)
	}), nil
}

const clientPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your client · wsplay workshop</title>
<link rel="icon" href="/workshop/icon.svg">
<link rel="stylesheet" href="/workshop/lesson.css">
</head>
<body>
<main>
<p id="state" role="status">Loading your client…</p>
<ol id="lines" aria-label="What your client handed on"></ol>
<form id="send"><input aria-label="A line to send" autocomplete="off" placeholder="Type a line and press Enter"> <button>Send</button></form>
</main>
<script src="wasm_exec.js"></script>
<script src="start.js"></script>
</body>
</html>
`

const clientStart = `const go = new Go();
WebAssembly.instantiateStreaming(fetch("client.wasm"), go.importObject)
  .then(r => go.run(r.instance))
  .catch(err => { document.getElementById("state").textContent = "Your client did not start: " + err; });
`
