// Compiles the engine's AssemblyScript kernels (src/engine/assembly) into build/engine.wasm with the pinned
// assemblyscript devDependency. Run by `npm ci` (prepare) and `npm run build:wasm`; deterministic output.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'engine.wasm');
mkdirSync(dirname(out), { recursive: true });

let asc;
try {
  asc = await import('assemblyscript/asc');
} catch (err) {
  console.error('build-wasm: assemblyscript is not installed (it is a devDependency: run `npm ci`).');
  throw err;
}

// Memory is imported and shared (training workers compute on one memory); 65536 pages = the 4 GiB wasm32 limit,
// which only reserves address space.
const args = [
  join(root, 'src/engine/assembly/index.ts'),
  '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd,threads',
  '--importMemory', '--sharedMemory', '--maximumMemory', '65536', '--initialMemory', '1',
  '-o', out,
];
const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) {
  console.error(`build-wasm: asc failed: ${error.message}\n${stderr.toString()}`);
  process.exit(1);
}
const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
console.log(`build-wasm: wrote build/engine.wasm (${readFileSync(out).length} bytes, sha256 ${sha.slice(0, 16)})`);
