package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The smallest client of the README's section "A Go client in the
// browser", built with its commands into a folder and served from it as
// a -site-dir, answers in real Chromium: the section stays true.
func TestBrowserSmallestClientFromTheReadme(t *testing.T) {
	dir := t.TempDir()
	example := filepath.Join("..", "examples", "wasmecho")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "main.wasm"), "./"+filepath.ToSlash(example))
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	copyFile(t, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), filepath.Join(dir, "wasm_exec.js"))
	for _, name := range []string{"index.html", "loader.js"} {
		copyFile(t, filepath.Join(example, name), filepath.Join(dir, name))
	}

	ts := startServerWithSite(t, testConfig(t), os.DirFS(dir))
	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		waitFor(`body p`),
	))
	assert.Equal(t, "echo said: hello from Go", text(t, ctx, `body p`))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}
