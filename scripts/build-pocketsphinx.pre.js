// Linked into pocketsphinx.mjs (emcc --pre-js, by scripts/build-pocketsphinx.sh) so that
// Node can load the ES module too (the tests do). Emscripten 3.1.6 writes its Node branch
// in CommonJS (require, __dirname), which an ES module lacks, and under Node >= 18 it
// would fetch() the wasm by a file path, which fails: give it the bytes instead.
// In a browser or a worker `process` is not there and none of this runs.
/* global Module, _scriptDir */ // emscripten's, in scope where pre-js code runs
var require =
  typeof process == 'object' && typeof process.getBuiltinModule == 'function'
    ? process.getBuiltinModule
    : undefined;
var __dirname = require ? require('path').dirname(require('url').fileURLToPath(_scriptDir)) : '';
if (require && !Module['wasmBinary'] && !Module['locateFile']) {
  Module['wasmBinary'] = require('fs').readFileSync(
    require('path').join(__dirname, 'pocketsphinx.wasm'),
  );
}
