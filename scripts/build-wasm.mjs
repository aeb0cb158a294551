console.log("wasm build: nothing yet")
