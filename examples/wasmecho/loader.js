// Starts the Go program: compiles main.wasm while it downloads (the server
// must send it as application/wasm) and runs it.
const go = new Go(); // from wasm_exec.js
WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject)
  .then(({instance}) => go.run(instance))
  .catch((err) => { document.body.textContent = "could not start: " + err; });
