package lessons

// liveJS fills a lesson's live panel (section#live) from what
// GET /api/workshop says, when scripts/workshop serve serves the page:
// buttons for the exercise's actions, a WebSocket console that shows
// every frame and close code, and the playground's page or the
// learner's client in a frame. It writes text only (textContent), never
// HTML. No template literals: this is a Go raw string.
const liveJS = `"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live) return;
  var n = Number(live.dataset.exercise);
  var state = live.querySelector(".live-state");

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function two(x) { return (x < 10 ? "0" : "") + x; }

  fetch("/api/workshop", { cache: "no-store" })
    .then(function (r) { return r.status === 200 ? r.json() : null; }) // 204: the playground, serving no exercise
    .catch(function () { return null; })
    .then(function (info) {
      if (!info) return; // not served by scripts/workshop serve: the page's own words stay
      if (info.exercise !== n) {
        state.textContent = "This server is scripts/workshop serve " + info.exercise +
          ", for exercise " + info.exercise + ": stop it and run scripts/workshop serve " + n + " to see this exercise's code here.";
        return;
      }
      state.textContent = "Live: " + info.what + ".";
      var p = info.panel || {};
      var con = p.socket ? consolePanel(p.socket) : null;
      (p.actions || []).forEach(function (a) { live.append(action(a, con)); });
      if (con) live.append(con.node);
      if (p.frame) live.append(frame(p.frame, "Your client"));
      if (p.page) live.append(frame(p.page, "The playground"));
    });

  // action is a form that POSTs its fields as the query and shows the
  // answer; a token's answer goes into the console's address.
  function action(a, con) {
    var form = el("form");
    var inputs = (a.fields || []).map(function (f) {
      var i = el("input");
      i.name = f; i.placeholder = f; i.setAttribute("aria-label", f);
      if (f === "user") i.value = "ada";
      form.append(i);
      return i;
    });
    var button = el("button", a.label);
    form.append(button);
    var answer = el("p", "", "answer");
    answer.setAttribute("role", "status");
    var box = el("div");
    box.append(form, answer);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = new URLSearchParams();
      inputs.forEach(function (i) { q.set(i.name, i.value); });
      button.disabled = true;
      answer.textContent = "…";
      fetch(a.url + "?" + q.toString(), { method: "POST" })
        .then(function (r) { return r.text().then(function (t) { return { ok: r.ok, status: r.status, text: t.trim() }; }); })
        .then(function (r) {
          if (!r.ok) { answer.textContent = "HTTP " + r.status + ": " + r.text; return; }
          if (a.token && con) {
            con.setParam("token", r.text);
            answer.textContent = "A token for " + q.get("user") + " is in the console's address: connect with it.";
            return;
          }
          answer.textContent = r.text;
        })
        .catch(function (err) { answer.textContent = "The server did not answer: " + err; })
        .then(function () { button.disabled = false; });
    });
    return box;
  }

  // consolePanel is a WebSocket console on path.
  function consolePanel(path) {
    var node = el("div", "", "console");
    var top = el("form");
    var addr = el("input");
    addr.value = path; addr.setAttribute("aria-label", "Address");
    var connect = el("button", "Connect");
    var status = el("span", "disconnected");
    status.setAttribute("role", "status");
    top.append(addr, connect, status);
    var send = el("form");
    var line = el("input");
    line.placeholder = "A message to send"; line.setAttribute("aria-label", "Message");
    var sendButton = el("button", "Send");
    sendButton.disabled = true;
    send.append(line, sendButton);
    var frames = el("ol", "", "frames");
    frames.setAttribute("aria-label", "Frames");
    node.append(top, send, frames);
    var ws = null;

    function log(text, cls) {
      var d = new Date();
      var li = el("li", two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + " " + text, cls);
      frames.append(li);
      while (frames.children.length > 200) frames.firstChild.remove();
      frames.scrollTop = frames.scrollHeight;
    }
    function show(data) {
      var s = String(data);
      return s.length > 160 ? s.slice(0, 160) + "… (" + s.length + " characters)" : s;
    }
    top.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (ws) { ws.close(1000, "closed from the panel"); return; }
      var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + addr.value;
      var opened = false;
      ws = new WebSocket(url);
      status.textContent = "connecting";
      connect.textContent = "Disconnect";
      ws.onopen = function () {
        opened = true;
        status.textContent = "connected";
        sendButton.disabled = false;
        log("connected to " + addr.value, "end");
      };
      ws.onmessage = function (ev) {
        if (typeof ev.data === "string") log("← " + show(ev.data), "in");
        else log("← a binary message of " + ev.data.size + " bytes", "in");
      };
      ws.onclose = function (ev) {
        var why = opened
          ? "closed: " + ev.code + (ev.reason ? " " + ev.reason : "") + (ev.wasClean ? "" : " (no close frame)")
          : "the handshake failed (" + ev.code + "): the browser does not say why, the terminal running scripts/workshop serve may";
        log(why, "end");
        status.textContent = "disconnected";
        connect.textContent = "Connect";
        sendButton.disabled = true;
        ws = null;
      };
    });
    send.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!ws || ws.readyState !== WebSocket.OPEN || line.value === "") return;
      ws.send(line.value);
      log("→ " + show(line.value), "out");
      line.value = "";
    });
    return {
      node: node,
      setParam: function (k, v) {
        var u = new URL(addr.value, location.href);
        u.searchParams.set(k, v);
        addr.value = u.pathname + u.search;
      }
    };
  }

  function frame(src, title) {
    var f = el("iframe");
    f.src = src; f.title = title;
    var box = el("div");
    box.append(el("h4", title), f);
    return box;
  }
})();
`
