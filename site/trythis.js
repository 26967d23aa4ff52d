// "Try this": a short list of things to do on the page, each ticking
// itself when the page shows it happened. It only reads the page (the
// data attributes the Go client sets), so it runs beside the Go client
// without touching it. Ticks are kept for the tab in sessionStorage.
"use strict";

(() => {
  const list = document.getElementById("try-list");
  const count = document.getElementById("try-count");
  if (!list) return;
  const done = new Set(JSON.parse(sessionStorage.getItem("wsplay-try") || "[]"));
  const q = (css) => document.querySelector(css);
  const all = (css) => [...document.querySelectorAll(css)];
  const text = (el) => (el ? el.textContent : "");

  // A server stop is seen as every card that was connected going down at
  // once (a stalled or closed card goes down alone), and done once a
  // card is connected again.
  const wasUp = new WeakSet();
  let allDown = false;
  function serverCameBack() {
    const states = all("#chat-clients .card .state");
    const up = states.filter((s) => s.dataset.state === "connected");
    for (const s of up) wasUp.add(s);
    const seen = states.filter((s) => wasUp.has(s));
    if (seen.length > 0 && up.length === 0) allDown = true;
    return allDown && up.length > 0;
  }

  const checks = {
    echo: () => q('#echo-log tr[data-dir="received"]') !== null,
    "same-user": () => {
      const users = all("#chat-clients article[data-user]").map((c) => c.dataset.user);
      return new Set(users).size < users.length;
    },
    restart: serverCameBack,
    plain: () => {
      const me = sessionStorage.getItem("wsplay-plain-user");
      return me !== null && all('#plain-log li[data-kind="text"]').some((li) => text(li).startsWith(me + ": "));
    },
    "bad-json": () => /bad_json/.test(all(".inspector").map(text).join("\n")),
    "too-big": () => all('#echo-log tr[data-kind="close"]').some((tr) => text(tr).includes("1009")),
    // A card's frames show it closed with 1008, and newer, caught up.
    slow: () => all("#chat-clients .inspector").some((insp) => {
      const rows = [...insp.querySelectorAll('.frame[data-dir="event"]')]; // newest first
      const caught = rows.findIndex((r) => r.dataset.kind === "resume" && text(r).includes("caught up"));
      const dropped = rows.findIndex((r) => r.dataset.kind === "close" && text(r).includes("1008"));
      return caught >= 0 && dropped > caught;
    }),
    notification: () => q('.badge:not([data-count="0"])') !== null,
  };

  function update() {
    let changed = false;
    for (const li of list.querySelectorAll("li[data-try]")) {
      const id = li.dataset.try;
      if (!done.has(id) && checks[id] && checks[id]()) {
        done.add(id);
        changed = true;
      }
      if (done.has(id)) li.dataset.done = "";
    }
    const n = list.querySelectorAll("li[data-done]").length;
    const of = list.querySelectorAll("li[data-try]").length;
    const summary = n + " of " + of + " done";
    if (count.textContent !== summary) count.textContent = summary;
    if (changed) sessionStorage.setItem("wsplay-try", JSON.stringify([...done]));
  }

  // The page changes often (frames, charts): look at most ten times a
  // second, and not at all once everything is done.
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      update();
      if (done.size === Object.keys(checks).length) observer.disconnect();
    }, 100);
  });
  observer.observe(document.getElementById("main"), {subtree: true, childList: true, attributes: true, attributeFilter: ["data-state", "data-count", "data-user"]});
  update();
})();
