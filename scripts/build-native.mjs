// Compiles the engine's optional native GEMM (native/*.cc, Node-API) into native/build/vtune-engine.node with
// the system's C++ compiler ($CXX, else c++ or g++) and the Node.js headers that come with Node.js
// (<prefix>/include/node, or $npm_config_nodedir/include/node). Run by `npm ci` (prepare, after build-wasm) and
// `npm run build:native`. It never fails the install: on a host without x86-64, a compiler or the headers it
// prints why and exits 0, and the engine runs its WebAssembly kernels (src/engine/native.ts). Each
// instruction set's GEMM is its own object file with its own -m flags; the addon picks one at run time from
// the CPU's features. -ffp-contract=off keeps every multiply and add the kernels keep apart (the bits must be
// the WebAssembly kernels').
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native');
const outDir = join(src, 'build');
const out = join(outDir, 'vtune-engine.node');

function skip(why) {
  // An addon built before is left in place (its sources may be these): say so rather than promise WebAssembly.
  const then = existsSync(out)
    ? 'the addon built before stays at native/build/vtune-engine.node and runs while its interface version matches src/engine/native.ts NATIVE_ABI (delete it to run the WebAssembly kernels)'
    : 'the engine will use its WebAssembly kernels';
  console.warn(`build-native: not built (${why}); ${then}`);
  process.exit(0);
}

if (process.env.VTUNE_SKIP_NATIVE_BUILD) skip('VTUNE_SKIP_NATIVE_BUILD is set');
if (process.arch !== 'x64') skip(`the native kernels are for x86-64, this is ${process.arch}`);
if (process.platform === 'win32') skip('the build script supports Linux and macOS compilers only');
// (The Dockerfile runs `npm ci` before it copies native/: the image runs the WebAssembly kernels.)
const missing = ['engine.cc', 'gemm-avx512.cc', 'gemm-avx2.cc'].filter((f) => !existsSync(join(src, f)));
if (missing.length > 0) skip(`no sources: ${missing.map((f) => `native/${f}`).join(', ')} missing`);

const headerDirs = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter(Boolean);
const include = headerDirs.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) skip(`no node_api.h in ${headerDirs.join(', ')}`);

const candidates = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
const cxx = candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!cxx) skip(`no C++ compiler (tried ${candidates.join(', ')})`);

mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(outDir, 'tmp-'));
const common = ['-O2', '-fPIC', '-std=c++17', '-ffp-contract=off', '-fno-fast-math', '-fvisibility=hidden', '-Wall'];
const units = [
  { file: 'engine.cc', flags: [`-I${include}`] },
  { file: 'gemm-avx512.cc', flags: ['-mavx512f', '-mfma'] },
  { file: 'gemm-avx2.cc', flags: ['-mavx2', '-mfma'] },
];
const run = (args) => {
  const r = spawnSync(cxx, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    skip(`${cxx} ${args.join(' ')} failed:\n${r.stderr || r.error?.message || ''}`);
  }
};
const objects = [];
for (const u of units) {
  const o = join(tmp, u.file.replace(/\.cc$/, '.o'));
  run([...common, ...u.flags, '-c', join(src, u.file), '-o', o]);
  objects.push(o);
}
const linked = join(tmp, 'vtune-engine.node');
run(['-shared', ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []), '-o', linked, ...objects]);
// A rename, not an overwrite: a running process may have the old file mapped.
renameSync(linked, out);
rmSync(tmp, { recursive: true, force: true });
console.log(`build-native: wrote native/build/vtune-engine.node (${cxx}, headers ${include})`);
