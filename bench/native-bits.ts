/**
 * The native kernels' bits on the real model (src/engine/native.ts): one fine-tune of the default scenario's
 * recipe on local:vtb-base (the built-in stories, 60 rows; 12 epochs, batch 8, cosine 3e-3; seed 7) per kernel
 * build and path, each in its own process (the path is chosen once per process), hashed: every tensor of the
 * fine-tune and a greedy generation from it. Prints one JSON line per run, then per build whether every path
 * gave the same hash (exit code 1 if not). Paths this host cannot run are skipped, saying why. Not a test (a few
 * minutes per run); no timings.
 *
 *   npx tsx bench/native-bits.ts [--epochs N]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../src/errors.js';

/** The options: `--epochs N` (default 12), and `--child` (one run, in the process the parent spawned). */
export function parseArgs(args: readonly string[]): { epochs: number; child: boolean } {
  const known = new Set(['--epochs', '--child']);
  for (const a of args) if (a.startsWith('--') && !known.has(a)) throw new ConfigError(`bench/native-bits.ts: unknown option ${a} (known: --epochs N)`);
  const at = args.indexOf('--epochs');
  const epochs = at < 0 ? 12 : Number(args[at + 1]);
  if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`bench/native-bits.ts: --epochs takes a whole number of at least 1, got ${args[at + 1] === undefined ? 'nothing' : JSON.stringify(args[at + 1])}`);
  return { epochs, child: args.includes('--child') };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) await main(parseArgs(process.argv.slice(2)));

async function main({ epochs, child }: { epochs: number; child: boolean }): Promise<void> {
  if (child) {
    const { loadDataset } = await import('../src/datasets/index.js');
    const { createLocalProvider } = await import('../src/providers/local.js');
    const { kernelVariant } = await import('../src/engine/kernels.js');
    const { describeGemmPath, gemmPath } = await import('../src/engine/native.js');
    const ds = await loadDataset('stories', { seed: 1, size: 60, heldOut: 5 });
    const p = await createLocalProvider({});
    const base = await p.model('vtb-base');
    const r = await p.train(base, { rows: ds.train, hyper: { epochs, learningRate: 3e-3, batchSize: 8, schedule: 'cosine' }, seed: 7 });
    const w = await p.weights!(r.model);
    const h = createHash('sha256');
    for (const name of [...w.tensors.keys()].sort()) {
      const t = w.tensors.get(name)!;
      h.update(name).update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    }
    h.update(JSON.stringify(await r.model.generate(['Once upon a time'], { maxTokens: 24 })));
    console.log(JSON.stringify({ build: kernelVariant(), path: describeGemmPath(gemmPath()), steps: r.stepsRun, finalLoss: r.finalLoss, sha256: h.digest('hex').slice(0, 16) }));
    process.exit(0);
  }

  const byBuild = new Map<string, Set<string>>();
  for (const build of ['portable', 'fma']) {
    for (const path of ['off', 'avx512', 'avx2']) {
      const out = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', '--epochs', String(epochs)], {
        env: { ...process.env, VTUNE_ENGINE_KERNELS: build, VTUNE_ENGINE_NATIVE: path },
        encoding: 'utf8',
        maxBuffer: 16 << 20,
      });
      const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
      if (out.status !== 0 || !line) {
        console.log(JSON.stringify({ build, native: path, skipped: (out.stderr.match(/EngineError: (.+)/)?.[1] ?? out.stderr.trim().split('\n').pop() ?? '').slice(0, 300) }));
        continue;
      }
      console.log(line);
      const r = JSON.parse(line) as { sha256: string };
      if (!byBuild.has(build)) byBuild.set(build, new Set());
      byBuild.get(build)!.add(r.sha256);
    }
  }
  let exit = 0;
  for (const [build, hashes] of byBuild) {
    console.log(JSON.stringify({ kind: 'compare', build, identical: hashes.size === 1 }));
    if (hashes.size !== 1) exit = 1;
  }
  process.exitCode = exit;
}
