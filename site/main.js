// Loads the Go client (dist/main.wasm) with the toolchain's wasm_exec.js.
// Everything else on this page is done by the Go code.
"use strict";

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
  body: JSON.stringify({username: "visitor"}),
  credentials: "same-origin",
}).then((r) => r.text()).then(() => {}, () => {});

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
