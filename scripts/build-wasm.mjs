// Compiles the engine's AssemblyScript kernels (src/engine/assembly) into build/engine.wasm with the pinned
// assemblyscript devDependency. Run by `npm ci` (prepare) and `npm run build:wasm`; deterministic output.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'build'), { recursive: true });

let asc;
try {
  asc = await import('assemblyscript/asc');
} catch (err) {
  console.error('build-wasm: assemblyscript is not installed (it is a devDependency: run `npm ci`).');
  throw err;
}

// Two builds of the same sources: engine.wasm (plain SIMD: every host rounds identically) and engine-fma.wasm
// (relaxed SIMD: `madd` in simd.ts becomes f32x4.relaxed_madd, fused on hosts with FMA). src/engine/kernels.ts
// picks one at run time. Memory is imported and shared (training workers compute on one memory); 65536 pages =
// the 4 GiB wasm32 limit, which only reserves address space.
const builds = [
  { file: 'engine.wasm', features: 'simd,threads' },
  { file: 'engine-fma.wasm', features: 'simd,threads,relaxed-simd' },
];
for (const { file, features } of builds) {
  const out = join(root, 'build', file);
  const args = [
    join(root, 'src/engine/assembly/index.ts'),
    '-O3', '--noAssert', '--runtime', 'stub', '--enable', features,
    '--importMemory', '--sharedMemory', '--maximumMemory', '65536', '--initialMemory', '1',
    '-o', out,
  ];
  const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(`build-wasm: asc failed on ${file}: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
  const bytes = readFileSync(out);
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`build-wasm: wrote build/${file} (${bytes.length} bytes, sha256 ${sha.slice(0, 16)})`);
}
