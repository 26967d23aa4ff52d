package servertest

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"wsplay/site"
)

var (
	builtSiteOnce sync.Once
	builtSite     fs.FS
	builtSiteErr  error
)

// BuiltSite returns the page with a freshly built WebAssembly client, built
// once per test binary: it does not depend on scripts/run having filled
// site/dist.
func BuiltSite(t testing.TB) fs.FS {
	t.Helper()
	builtSiteOnce.Do(func() { builtSite, builtSiteErr = buildSite() })
	if builtSiteErr != nil {
		t.Fatal(builtSiteErr)
	}
	return builtSite
}

func buildSite() (fs.FS, error) {
	dir, err := os.MkdirTemp("", "wsplay-site-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	wasm := filepath.Join(dir, "main.wasm")
	build := exec.Command("go", "build", "-o", wasm, "wsplay/wasmclient")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, &buildError{err, out}
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{}
	for name, path := range map[string]string{
		"dist/main.wasm":    wasm,
		"dist/wasm_exec.js": filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"),
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	// Everything else of the page as built into the binary: index.html,
	// its styles and scripts, the workshop's lessons.
	err = fs.WalkDir(site.Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(name, "dist/") {
			return err
		}
		b, err := fs.ReadFile(site.Files(), name)
		fsys[name] = &fstest.MapFile{Data: b}
		return err
	})
	return fsys, err
}

type buildError struct {
	err    error
	output []byte
}

func (e *buildError) Error() string {
	return "build the client: " + e.err.Error() + "\n" + string(e.output)
}

// Browser starts a headless Chromium with a fresh profile for the test,
// for a minute at most. Without Chromium the test fails, saying how to
// install it, unless WSPLAY_SKIP_BROWSER=1 asks to skip the browser
// tests.
func Browser(t testing.TB) context.Context {
	t.Helper()
	return BrowserFor(t, time.Minute)
}

// BrowserFor is Browser for a test that needs longer than a minute in
// all, such as one that opens tens of tabs.
func BrowserFor(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	if os.Getenv("WSPLAY_SKIP_BROWSER") == "1" {
		t.Skip("WSPLAY_SKIP_BROWSER=1: browser test skipped")
	}
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	path, err := exec.Command(filepath.Join(filepath.Dir(strings.TrimSpace(string(mod))), "scripts", "find-chromium")).Output()
	if err != nil {
		t.Fatal("Chromium not found. Install it (Debian/Ubuntu: apt-get install chromium; scripts/test does this when run as root), " +
			"set WSPLAY_CHROMIUM to its path, or set WSPLAY_SKIP_BROWSER=1 to skip the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(strings.TrimSpace(string(path))),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, d)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	return ctx
}
