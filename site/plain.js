// A chat client in plain JavaScript, beside the Go one: one WebSocket to
// /ws/chat, one JSON object a frame, the tutorial's field names (type,
// username, content, users). No library, no build step, nothing of the Go
// client: the two understand each other only through the protocol. The
// page shows this file's own text under the panel.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("plain-log"), input = $("plain-input"), state = $("plain-state");
  // The name is the page's own, chosen once per tab like the cards'.
  const user = sessionStorage.getItem("wsplay-plain-user") ||
    "js-" + Math.random().toString(36).slice(2, 6);
  sessionStorage.setItem("wsplay-plain-user", user);
  let conn = null;

  function show(text, kind) {
    const li = document.createElement("li");
    li.textContent = text;
    li.dataset.kind = kind;
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }

  function setState(text, s) {
    state.textContent = text;
    state.dataset.state = s;
  }

  // wsplay names a connection by its token when it has one, and this page
  // holds a login cookie of the cards'. So this client logs in as itself
  // first, keeping no cookie (credentials "omit"), and sends its token in
  // the address; a client alone on its page may just name itself there.
  async function connect() {
    setState("logging in", "connecting");
    let token;
    try {
      const r = await fetch("/api/login", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({username: user}),
        credentials: "omit",
      });
      const body = await r.json();
      if (!r.ok) {
        setState("login refused: " + body.error.message, "disconnected");
        return;
      }
      token = body.token;
    } catch (err) {
      setState("server not reachable", "disconnected");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    conn = new WebSocket(scheme + location.host + "/ws/chat?room=general&username=" +
      encodeURIComponent(user) + "&token=" + encodeURIComponent(token));
    setState("connecting", "connecting");
    conn.onopen = () => setState("connected as " + user, "connected");
    conn.onclose = (ev) => {
      setState("closed: " + ev.code + (ev.reason ? " " + ev.reason : ""), "disconnected");
      conn = null;
    };
    conn.onmessage = (ev) => {
      const m = JSON.parse(ev.data); // one JSON value a frame, always
      switch (m.type) {
      case "text":
        show(m.username + ": " + m.content, "text");
        break;
      case "history":
        for (const h of m.messages) {
          if (h.type === "text") show(h.username + ": " + h.content, "history");
        }
        break;
      case "join":
      case "leave":
        show((m.username || m.users.join(", ")) + (m.type === "join" ? " joined" : " left"), m.type);
        break;
      case "user_list":
        show("in the room: " + m.users.join(", "), "users");
        break;
      case "error":
        show("error " + m.code + ": " + m.content, "error");
        break;
      }
    };
  }

  $("plain-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!conn || conn.readyState !== WebSocket.OPEN) {
      show("not connected: press Connect", "error");
      return;
    }
    if (input.value === "") return;
    conn.send(JSON.stringify({type: "text", content: input.value}));
    input.value = "";
  });
  $("plain-connect").addEventListener("click", () => {
    if (conn) conn.close(1000, "");
    else connect();
  });
  // Its own source, for reading beside it.
  fetch("plain.js").then((r) => r.text()).then((src) => { $("plain-source").textContent = src; }, () => {});
})();
