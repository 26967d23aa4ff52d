package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inspectorJS is what the test does in the page, on the inspector of one
// client (the function's argument, a CSS selector): the page's own
// controls, set and pressed as a person would.
const inspectorJS = `window.insp = (sel) => {
  const root = document.querySelector(sel);
  const rows = () => [...root.querySelectorAll(".frame")];
  const shown = () => rows().filter((r) => !r.hidden);
  const set = (name, value) => {
    const el = root.querySelector('[data-filter="' + name + '"]');
    el.value = value;
    el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", {bubbles: true}));
  };
  return {
    root, rows, shown, set,
    raw: (text) => {
      root.querySelector('[data-slot="raw-text"]').value = text;
      root.querySelector('[data-slot="raw"] button[type="submit"]').click();
    },
    // the first received frame whose text has part, as the inspector shows it
    received: (part) => {
      const r = rows().find((r) => r.dataset.dir === "received" && r.dataset.raw.includes(part));
      return r ? {type: r.dataset.type, pretty: r.querySelector("pre").textContent, size: r.querySelector('[data-slot="size"]').textContent} : null;
    },
    exported: () => {
      const made = URL.createObjectURL;
      let blob;
      URL.createObjectURL = (b) => { blob = b; return made.call(URL, b); };
      try { root.querySelector('[data-act="export"]').click(); } finally { URL.createObjectURL = made; }
      return blob.text();
    },
  };
};`

// Tried as a new user would, for each client of the page (echo, a chat
// card, its notifications, the dashboard): open its inspector, send a
// frame from the raw-send box, see the answer pretty-printed, narrow the
// list by direction, type and search, export it as JSON Lines and import
// the file back, which sends its sent frames again. Then send "not json"
// to a chat card: the server's bad_json error shows, and the card stays
// connected. Then a fault button, Pause, Copy, and a binary frame.
func TestBrowserInspectorOnEveryClient(t *testing.T) {
	ts := startServerWithSite(t, testConfig(t), buildSite(t))
	ctx := newBrowser(t)
	const ada = `#chat-clients article[data-user="ada"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+adaAndBob),
		waitFor(`#echo-state[data-state="connected"]`),
		waitFor(`#dash-state[data-state="connected"]`),
		waitFor(ada+` .state[data-state="connected"]`),
		chromedp.Evaluate[chromedp.Void](inspectorJS),
	))
	clients := []struct{ name, sel string }{
		{"echo", `#echo .inspector`},
		{"dashboard", `#dashboard .inspector`},
		{"chat", ada + ` > [data-slot="inspector"] > .inspector`},
		{"notifications", ada + ` .notes .inspector`},
	}
	dir := t.TempDir()
	for i, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			js := func(expr string) string {
				return fmt.Sprintf(`(() => { const i = insp(%q); return %s })()`, c.sel, expr)
			}
			id := fmt.Sprintf("inspector-%d", i)
			ping := fmt.Sprintf(`{"type": "ping", "id": %q}`, id)
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](js(`(() => { for (let d = i.root; d; d = d.parentElement.closest("details")) d.open = true })()`)),
				chromedp.Evaluate[chromedp.Void](js(fmt.Sprintf(`i.raw(%q)`, ping))),
				chromedp.Poll[chromedp.Void](js(fmt.Sprintf(`i.received(%q) !== null`, id))),
			))
			got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](js(fmt.Sprintf(`i.received(%q)`, id))))
			require.NoError(t, err)
			assert.Contains(t, got["pretty"], "{\n  \"type\": \"", "pretty-printed, two spaces")
			assert.Contains(t, got["pretty"], fmt.Sprintf("\n  \"id\": %q", id))
			assert.Regexp(t, `^\d+ B$`, got["size"])
			typ := got["type"]
			assert.Contains(t, []string{"pong", "ping"}, typ, "the type from the JSON")

			// Each filter narrows: the open event is always left out.
			narrow := func(what, setup, ok string) {
				n, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](fmt.Sprintf(
					`(() => { const i = insp(%q); %s; const s = i.shown(); return [s.length, i.rows().length, s.filter((r) => !(%s)).length] })()`, c.sel, setup, ok)))
				require.NoError(t, err)
				assert.Positive(t, n[0], "%s: some shown", what)
				assert.Less(t, n[0], n[1], "%s: fewer than all", what)
				assert.Zero(t, n[2], "%s: only matching rows shown", what)
			}
			narrow("direction", `i.set("dir", "received")`, `r.dataset.dir === "received"`)
			narrow("direction and type", fmt.Sprintf(`i.set("type", %q)`, typ), fmt.Sprintf(`r.dataset.dir === "received" && r.dataset.type === %q`, typ))
			narrow("search", fmt.Sprintf(`i.set("dir", ""); i.set("type", ""); i.set("search", %q)`, id), fmt.Sprintf(`r.dataset.raw.includes(%q)`, id))
			require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js(`i.set("search", "")`))))

			// Export: JSON Lines, one frame a line, oldest first.
			// The dashboard's snapshots keep coming: the rows are counted
			// before and after, and the export holds one line for each row
			// there was when it ran.
			out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js(`(async () => { const before = i.rows().length; const x = await i.exported(); return [x, String(before), String(i.rows().length)] })()`), chromedp.EvalAwaitPromise))
			require.NoError(t, err)
			jsonl := out[0]
			lines := strings.Split(strings.TrimSuffix(jsonl, "\n"), "\n")
			before, _ := strconv.Atoi(out[1])
			after, _ := strconv.Atoi(out[2])
			assert.True(t, before <= len(lines) && len(lines) <= after, "one line a frame: %d lines, %d to %d rows", len(lines), before, after)
			var sentPings int
			for _, l := range lines {
				var f struct{ Time, Dir, Type, Data string }
				require.NoError(t, json.Unmarshal([]byte(l), &f), "line %q", l)
				assert.NotEmpty(t, f.Time, "each line has its time")
				if f.Dir == "sent" && f.Data == ping {
					sentPings++
				}
			}
			assert.Equal(t, 1, sentPings, "the raw ping, as it was sent: %s", jsonl)
			var first struct{ Dir, Type string }
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
			assert.Equal(t, "open", first.Type, "oldest first")

			// Import: the file's sent frames go again, and their answers come.
			file := filepath.Join(dir, c.name+".jsonl")
			require.NoError(t, os.WriteFile(file, []byte(jsonl), 0o600))
			require.NoError(t, chromedp.Do(ctx,
				chromedp.SetUploadFiles(chromedp.CSS(c.sel+` input[type="file"]`), []string{file}, chromedp.NodeReady),
				chromedp.Poll[chromedp.Void](js(fmt.Sprintf(`i.rows().filter((r) => r.dataset.dir === "sent" && r.dataset.raw === %q).length === 2`, ping))),
				chromedp.Poll[chromedp.Void](js(fmt.Sprintf(`i.rows().filter((r) => r.dataset.dir === "received" && r.dataset.raw.includes(%q)).length === 2`, id))),
			))
			assert.Contains(t, text(t, ctx, c.sel+` [data-slot="io"]`), "replayed")
		})
	}

	// Raw "not json" to a chat card: the server answers bad_json, and the
	// card stays connected.
	chat := clients[2].sel
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`insp(%q).raw("not json")`, chat)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "received" && r.dataset.type === "error" && r.dataset.raw.includes('"bad_json"'))`, chat)),
	))
	sent, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "sent" && r.dataset.raw === "not json")`, chat)))
	require.NoError(t, err)
	assert.True(t, sent, "sent as is")
	assert.Equal(t, "connected", attr(t, ctx, ada+` .state`, "data-state"))

	// A fault button, on a server without -playground-faults: the fault
	// goes as a frame, the server answers forbidden, in words, and the
	// card stays connected.
	require.NoError(t, chromedp.Do(ctx,
		press(chat+` [data-fault="no_pong"]`),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "received" && r.dataset.type === "error" && r.dataset.raw.includes('"forbidden"') && r.dataset.raw.includes("-playground-faults"))`, chat)),
	))
	sent, err = chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "sent" && r.dataset.raw === '{"type":"fault","content":"no_pong"}')`, chat)))
	require.NoError(t, err)
	assert.True(t, sent, "the button's frame")
	box, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, chat+` [data-slot="raw-text"]`)))
	require.NoError(t, err)
	assert.Equal(t, "not json", box, "the raw-send box is left as it was")
	assert.Equal(t, "connected", attr(t, ctx, ada+` .state`, "data-state"))

	// Pause: the list stays still, what comes meanwhile is held, and
	// Resume shows it.
	shownRows := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`insp(%q).shown().length`, chat)))
		require.NoError(t, err)
		return n
	}
	require.NoError(t, chromedp.Do(ctx, press(chat+` [data-act="pause"]`)))
	before := shownRows()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`insp(%q).raw('{"type":"ping","id":"held"}')`, chat)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "received" && r.dataset.raw.includes('"held"') && r.hidden)`, chat)),
	))
	assert.Equal(t, before, shownRows(), "nothing new shown while paused")
	assert.Contains(t, text(t, ctx, chat+` [data-slot="io"]`), "held while paused")
	require.NoError(t, chromedp.Do(ctx, press(chat+` [data-act="pause"]`)))
	assert.GreaterOrEqual(t, shownRows(), before+2, "the ping and its pong, shown on Resume")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`insp(%q).rows().filter((r) => r.hidden || r.dataset.held !== undefined).length`, chat)))
	require.NoError(t, err)
	assert.Zero(t, hidden, "no filter is set: after Resume every row shows")

	// Copy one frame: the clipboard holds the frame as it was on the wire.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: ts.URL})
		require.NoError(t, err, name)
	}
	// A headless tab is not focused, and the clipboard is only for the
	// focused page.
	_, err = chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const r = insp(%q).rows().find((r) => r.dataset.raw.includes('"held"') && r.dataset.dir === "received"); r.querySelector("details").open = true; r.querySelector('[data-act="copy"]').click() })()`, chat)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).textContent.includes("cop")`, chat+` [data-slot="io"]`)),
	))
	require.Equal(t, "copied", text(t, ctx, chat+` [data-slot="io"]`))
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	assert.Equal(t, `{"type":"pong","id":"held"}`, copied)

	// A binary frame, from hex, to the dashboard: it takes none, and
	// closes with 1003, explained.
	const dash = `#dashboard .inspector`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(dash+` [data-slot="raw-mode"]`), "hex"),
		chromedp.SetValue(chromedp.CSS(dash+` [data-slot="raw-text"]`), "de ad be ef"),
		press(dash+` form.raw button[type="submit"]`),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.dir === "sent" && r.dataset.kind === "binary" && r.dataset.raw === "deadbeef")`, dash)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`insp(%q).rows().some((r) => r.dataset.kind === "close" && r.dataset.raw.includes("1003 unsupported data"))`, dash)),
	))
	screenshot(t, ctx, "inspector.png")
}
