// Command pageload times cold loads of the playground's page: from
// navigation to the echo panel's "connected", in headless Chromium, each
// load in a new browser with an empty profile (no HTTP cache, no compiled
// code cached), against a server in process on a loopback port serving
// site/ from disk as the command wsplay serves it. It prints each load's
// phases and their medians. Build the client first; from the module root:
//
//	go run ./scripts/buildsite && go run ./scripts/pageload [-n 5]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"wsplay/server/servertest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pageload:", err)
		os.Exit(1)
	}
}

// phases are what one load measures, in milliseconds since navigation
// began; the page and the client stamp them (performance.now()).
type phases struct {
	HTML      float64 `json:"html"`      // the page's response ends
	WasmStart float64 `json:"wasmStart"` // main.wasm's request starts
	WasmEnd   float64 `json:"wasmEnd"`   // its response ends
	WasmBytes float64 `json:"wasmBytes"` // bytes on the wire
	Ready     float64 `json:"ready"`     // compiled and instantiated
	GoMain    float64 `json:"goMain"`    // the Go program's main begins
	Login     float64 `json:"login"`     // the login has been answered
	Dial      float64 `json:"dial"`      // echo begins to connect
	Connected float64 `json:"connected"` // echo is connected
	Fetches   int     `json:"fetches"`   // requests for main.wasm: 1 when the preload is used
}

const collect = `(() => {
  const d = document.body.dataset, n = performance.getEntriesByType("navigation")[0];
  const all = performance.getEntriesByType("resource").filter(e => e.name.endsWith("/dist/main.wasm")), w = all[0] || {};
  return {html: n.responseEnd, wasmStart: w.startTime || 0, wasmEnd: w.responseEnd || 0,
    wasmBytes: w.transferSize || 0, ready: +d.wasmReadyMs || 0, goMain: +d.goMainMs || 0,
    login: +d.loginDoneMs || 0, dial: +d.echoDialMs || 0, connected: +d.echoConnectedMs, fetches: all.length};
})()`

func run() error {
	n := flag.Int("n", 5, "number of cold `loads`")
	siteDir := flag.String("site", "site", "the page's `directory`, with dist/ built by scripts/buildsite")
	flag.Parse()
	if *n < 1 || *n > 50 {
		return errors.New("-n: from 1 to 50 loads")
	}
	if _, err := os.Stat(filepath.Join(*siteDir, "dist", "main.wasm.br")); err != nil {
		return fmt.Errorf("the client is not built (%w): run go run ./scripts/buildsite", err)
	}
	chromium, err := exec.Command(filepath.Join("scripts", "find-chromium")).Output()
	if err != nil {
		return errors.New("no Chromium found: install it (Debian: apt-get install chromium) or set WSPLAY_CHROMIUM")
	}
	data, err := os.MkdirTemp("", "wsplay-pageload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	srv, err := servertest.New(servertest.CommandDefaults(filepath.Join(data, "server")), servertest.Options{Site: os.DirFS(*siteDir)})
	if err != nil {
		return err
	}
	defer srv.Close()

	var loads []phases
	fmt.Printf("%-4s %8s %10s %10s %9s %8s %8s %8s %8s %10s\n", "load", "html", "wasm start", "wasm end", "wasm KB", "ready", "Go main", "login", "dial", "connected")
	for i := range *n {
		p, err := load(strings.TrimSpace(string(chromium)), filepath.Join(data, fmt.Sprint("profile", i)), srv.URL)
		if err != nil {
			return fmt.Errorf("load %d: %w", i+1, err)
		}
		loads = append(loads, p)
		fmt.Printf("%-4d %8.0f %10.0f %10.0f %9.0f %8.0f %8.0f %8.0f %8.0f %10.0f\n", i+1, p.HTML, p.WasmStart, p.WasmEnd, p.WasmBytes/1000, p.Ready, p.GoMain, p.Login, p.Dial, p.Connected)
		if p.Fetches > 1 {
			fmt.Printf("     main.wasm was fetched %d times: the preload was not used\n", p.Fetches)
		}
	}
	med := func(f func(phases) float64) float64 {
		v := make([]float64, len(loads))
		for i, p := range loads {
			v[i] = f(p)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	fmt.Printf("%-4s %8.0f %10.0f %10.0f %9.0f %8.0f %8.0f %8.0f %8.0f %10.0f\n", "med",
		med(func(p phases) float64 { return p.HTML }), med(func(p phases) float64 { return p.WasmStart }),
		med(func(p phases) float64 { return p.WasmEnd }), med(func(p phases) float64 { return p.WasmBytes / 1000 }),
		med(func(p phases) float64 { return p.Ready }), med(func(p phases) float64 { return p.GoMain }),
		med(func(p phases) float64 { return p.Login }), med(func(p phases) float64 { return p.Dial }),
		med(func(p phases) float64 { return p.Connected }))
	fmt.Printf("median of %d cold loads, navigation to echo connected: %.0f ms\n", len(loads), med(func(p phases) float64 { return p.Connected }))
	return nil
}

// load starts a browser with an empty profile, waits until it runs, then
// loads the page once and returns its phases.
func load(chromium, profile, url string) (phases, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	// The browser starts on the first action; the page's clock starts at
	// the navigation, so the browser's start is not counted.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return phases{}, fmt.Errorf("start Chromium: %w", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#echo-state[data-state="connected"]`)),
	); err != nil {
		return phases{}, err
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[phases](collect))
	if err != nil {
		return phases{}, err
	}
	return p, cmp.Or(chromedp.Cancel(ctx), nil)
}
