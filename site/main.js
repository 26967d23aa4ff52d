// Loads the Go client (dist/main.wasm) with the toolchain's wasm_exec.js.
// Everything else on this page is done by the Go code.
"use strict";

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
  } catch (err) {
    fail(`Could not load the Go client (dist/main.wasm): ${err.message}. Start the server with scripts/run, which builds it.`);
    return;
  }
  await go.run(result.instance);
  fail("The Go client has stopped. Reload the page to start it again.");
})();
