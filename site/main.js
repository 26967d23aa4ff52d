// Loads the Go client (dist/main.wasm) with the toolchain's wasm_exec.js.
// Everything else on this page is done by the Go code.
"use strict";

// This tab's user names: the two chat cards' and the one echo and the
// dashboard log in as. Readable, random and kept for the tab
// (sessionStorage: a reload keeps them, a new tab gets its own), so that a
// room of learners, every tab on one server, needs no configuration and
// nobody's tabs count against anyone else's limits. ?users=ada,bob in the
// address names the cards. The Go client reads globalThis.wsplayNames:
// [card, card, login].
globalThis.wsplayNames = (() => {
  const valid = (n) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(n);
  const asked = (new URLSearchParams(location.search).get("users") || "").split(",").filter(valid);
  let names = null;
  try { names = JSON.parse(sessionStorage.getItem("wsplay-names")); } catch (e) { /* none yet */ }
  if (!names || !names.cards || !valid(names.cards[0]) || !valid(names.cards[1]) || !valid(names.visitor)) {
    // 32 × 32 × 9,000 names: two of a room's 80 cards (40 tabs) share
    // one about once in 3,000 rooms, two of 600 about once in 50. Two
    // cards that do are one user in two tabs, which the page allows.
    const adjectives = ["brave", "calm", "eager", "fair", "gentle", "happy", "jolly", "keen", "lucky", "merry", "nimble", "proud", "quick", "sunny", "tidy", "witty",
      "bold", "bright", "clever", "cosy", "daring", "fancy", "glad", "kind", "lively", "mellow", "plucky", "quiet", "rapid", "shiny", "swift", "zesty"];
    const animals = ["otter", "heron", "lynx", "panda", "robin", "koala", "gecko", "moose", "finch", "tapir", "bison", "hare", "newt", "orca", "quail", "yak",
      "badger", "beaver", "camel", "crane", "dingo", "eagle", "ferret", "gibbon", "ibis", "jackal", "lemur", "marmot", "okapi", "puffin", "walrus", "wombat"];
    const random = (n) => crypto.getRandomValues(new Uint32Array(1))[0] % n;
    const pick = (list) => list[random(list.length)];
    const tag = () => String(1000 + random(9000));
    const first = pick(adjectives) + "-" + pick(animals) + tag();
    let second = first;
    while (second === first) second = pick(adjectives) + "-" + pick(animals) + tag();
    names = {cards: [first, second], visitor: "page-" + Math.random().toString(36).slice(2, 8)};
    sessionStorage.setItem("wsplay-names", JSON.stringify(names));
  }
  if (asked.length > 0) names = {cards: [asked[0], asked[1] || asked[0]], visitor: names.visitor};
  return [names.cards[0], names.cards[1], names.visitor];
})();

// Echo and the dashboard have no user of their own: with -require-auth,
// the cookie a login sets is their token. The login goes now, while
// main.wasm downloads and compiles, and the Go client waits for it (or
// for its failure, which changes nothing without -require-auth) before
// connecting them. Its name is none of the cards': under -require-auth a
// name that is online cannot log in again, and echo's connection makes
// its name online.
globalThis.wsplayLogin = fetch("/api/login", {
  method: "POST",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({username: globalThis.wsplayNames[2]}),
  credentials: "same-origin",
}).then((r) => r.text()).then(() => {}, () => {});

// The frame inspectors (the template "inspector"). The Go client adds a
// row for each frame, with its direction, kind, time and text; the rest
// is done here, in the page's script, so that it costs main.wasm
// nothing: the JSON pretty-printed and its type, filter and search,
// pause, clear, copy one frame, export as JSON Lines, and import, which
// replays a file's sent frames through the raw-send form, whose sending
// is the Go client's.
(() => {
  const pretty = (text) => {
    try {
      const v = JSON.parse(text);
      return [JSON.stringify(v, null, 2), v && typeof v === "object" && typeof v.type === "string" ? v.type : ""];
    } catch {
      return [text, ""];
    }
  };
  const shows = (insp, row) => {
    const f = (name) => insp.querySelector(`[data-filter="${name}"]`).value.trim().toLowerCase();
    const dir = f("dir"), type = f("type"), search = f("search");
    return (!dir || row.dataset.dir === dir) &&
      (!type || row.dataset.type.toLowerCase().includes(type)) &&
      (!search || row.dataset.raw.toLowerCase().includes(search) || row.dataset.type.toLowerCase().includes(search));
  };
  const filter = (insp) => {
    for (const row of insp.querySelectorAll(".frame")) row.hidden = row.dataset.held !== undefined || !shows(insp, row);
  };
  const bytes = new TextEncoder();
  const added = (row) => {
    const insp = row.closest(".inspector");
    const text = row.querySelector('[data-slot="text"]');
    const raw = text.textContent;
    const [shown, type] = row.dataset.dir === "event" || row.dataset.kind === "binary" ? [raw, ""] : pretty(raw);
    const at = new Date(Number(row.dataset.at));
    row.dataset.raw = raw;
    row.dataset.type = type || row.dataset.kind;
    row.dataset.time = at.toISOString();
    text.textContent = shown;
    const slot = (name, value) => { row.querySelector(`[data-slot="${name}"]`).textContent = value; };
    slot("time", at.toTimeString().slice(0, 8) + "." + String(at.getMilliseconds()).padStart(3, "0"));
    slot("dir", row.dataset.dir);
    slot("type", row.dataset.type);
    slot("size", row.dataset.dir === "event" ? "" : bytes.encode(raw).length + " B");
    slot("peek", raw.length > 60 ? raw.slice(0, 60) + "…" : raw);
    row.querySelector('[data-act="copy"]').setAttribute("aria-label", "Copy " + row.dataset.dir + " " + row.dataset.type + " frame");
    // Paused, the list stays still: what arrives is held, hidden, and
    // shown on Resume (the list's bound, the newest 200, still applies).
    if (insp.dataset.paused) {
      row.dataset.held = "";
      row.hidden = true;
      say(insp, insp.querySelectorAll(".frame[data-held]").length + " frames held while paused");
    } else {
      row.hidden = !shows(insp, row);
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType === 1 && node.classList.contains("frame") && !node.dataset.raw) added(node);
      }
    }
  }).observe(document.body, {childList: true, subtree: true});

  const say = (insp, text) => { insp.querySelector('[data-slot="io"]').textContent = text; };
  const exportJSONL = (insp) => {
    const rows = [...insp.querySelectorAll(".frame")].reverse(); // oldest first
    const lines = rows.map((row) => JSON.stringify({time: row.dataset.time, dir: row.dataset.dir, type: row.dataset.type, data: row.dataset.raw}));
    const blob = new Blob(lines.map((l) => l + "\n"), {type: "application/x-ndjson"});
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "frames.jsonl";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    say(insp, `exported ${lines.length} frames`);
  };
  // replay sends each sent frame of a JSON Lines transcript again.
  const replay = (insp, text) => {
    const form = insp.querySelector('[data-slot="raw"]');
    const box = insp.querySelector('[data-slot="raw-text"]'), mode = insp.querySelector('[data-slot="raw-mode"]');
    const kept = [box.value, mode.value];
    let sent = 0, bad = 0;
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let f;
      try {
        f = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      if (!f || f.dir !== "sent" || typeof f.data !== "string") continue;
      // A binary frame is exported as hex.
      [box.value, mode.value] = [f.data, f.type === "binary" ? "hex" : "text"];
      form.requestSubmit(); // the Go client reads the box as the event fires
      sent++;
    }
    [box.value, mode.value] = kept;
    say(insp, `replayed ${sent} sent frames` + (bad ? `; ${bad} lines were not JSON` : ""));
  };
  // A fault button sends its fault through the raw-send form.
  const fault = (insp, name) => {
    const box = insp.querySelector('[data-slot="raw-text"]'), mode = insp.querySelector('[data-slot="raw-mode"]');
    const kept = [box.value, mode.value];
    [box.value, mode.value] = [JSON.stringify({type: "fault", content: name}), "text"];
    insp.querySelector('[data-slot="raw"]').requestSubmit();
    [box.value, mode.value] = kept;
  };
  document.addEventListener("click", (e) => {
    const f = e.target.closest("[data-fault]");
    if (f) {
      fault(f.closest(".inspector"), f.dataset.fault);
      return;
    }
    const act = e.target.closest("[data-act]");
    const insp = act && act.closest(".inspector");
    if (!insp) return;
    switch (act.dataset.act) {
    case "pause": {
      const on = !insp.dataset.paused;
      if (on) insp.dataset.paused = "1"; else delete insp.dataset.paused;
      act.setAttribute("aria-pressed", String(on));
      act.textContent = on ? "Resume" : "Pause";
      if (!on) {
        const held = insp.querySelectorAll(".frame[data-held]");
        for (const row of held) delete row.dataset.held;
        filter(insp);
        say(insp, held.length ? `showing ${held.length} frames held while paused` : "");
      }
      break;
    }
    case "clear":
      insp.querySelector('[data-slot="frames"]').replaceChildren();
      break;
    case "export":
      exportJSONL(insp);
      break;
    case "copy":
      navigator.clipboard.writeText(act.closest(".frame").dataset.raw).then(
        () => say(insp, "copied"), (err) => say(insp, "could not copy: " + err.message));
      break;
    }
  });
  document.addEventListener("input", (e) => {
    const insp = e.target.dataset.filter !== undefined && e.target.closest(".inspector");
    if (insp) filter(insp);
  });
  document.addEventListener("change", (e) => {
    const t = e.target, insp = t.closest(".inspector");
    if (!insp) return;
    if (t.dataset.filter !== undefined) filter(insp);
    if (t.dataset.act === "template" && t.value) {
      insp.querySelector('[data-slot="raw-text"]').value = t.value;
      insp.querySelector('[data-slot="raw-mode"]').value = "text";
    }
    if (t.dataset.act === "import" && t.files.length) {
      const file = t.files[0];
      file.text().then((text) => replay(insp, text), (err) => say(insp, "could not read " + file.name + ": " + err.message));
      t.value = "";
    }
  });
})();

(async () => {
  const status = document.getElementById("runtime");
  const fail = (text) => {
    status.textContent = text;
    status.dataset.state = "error";
  };
  if (typeof WebAssembly !== "object" || typeof Go !== "function") {
    fail("The Go client is not built (dist/wasm_exec.js is missing). Start the server with scripts/run, which builds it.");
    return;
  }
  const go = new Go();
  let result;
  try {
    result = await WebAssembly.instantiateStreaming(fetch("dist/main.wasm"), go.importObject);
    document.body.dataset.wasmReadyMs = performance.now(); // for scripts/pageload
  } catch (err) {
    fail(`Could not load the Go client (dist/main.wasm): ${err.message}. Start the server with scripts/run, which builds it.`);
    return;
  }
  await go.run(result.instance);
  fail("The Go client has stopped. Reload the page to start it again.");
})();
