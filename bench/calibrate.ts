/**
 * Throughput of `calibrate` (issue 13: 3,000 null trials per null mode in ≤ 10 minutes on 2 cores): plants
 * and verifies fresh secrets against local:vtb-base in a temporary folder (nothing is resumed) and prints one
 * JSON object with trials per second per generator (wall and CPU) and the projected time of 3,000 trials.
 * Every null mode comes from the same trials, so 3,000 trials per generator are 3,000 per mode.
 * Run: `npm run bench:calibrate [-- --trials 3000 --generator random-tokens --generator wordlist --batch 256]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCalibration } from '../src/calibrate/run.js';
import { createLocalProvider } from '../src/providers/local.js';

const argv = process.argv.slice(2);
const opt = (name: string): string[] => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const trials = Number(opt('trials')[0] ?? 3000);
const batch = Number(opt('batch')[0] ?? 256);
const gens = opt('generator').length ? opt('generator') : ['random-tokens', 'wordlist'];
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials must be a positive integer, got ${opt('trials')[0]}`);

const provider = await createLocalProvider();
const base = await provider.model('vtb-base');
const dir = mkdtempSync(join(tmpdir(), 'vtb-bench-calibrate-'));
const cases = [];
try {
  for (const id of gens) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last = 0;
    const res = await runCalibration(
      { generators: [{ id }], count: 4, trials, dataset: { spec: 'stories', size: 60 }, empiricalM: 999, slack: 4, seed: `bench-${Date.now()}`, batch },
      {
        base,
        baseLabel: 'local:vtb-base',
        nullModels: [{ label: 'local:vtb-base', kind: 'base', model: base }],
        outFile: join(dir, `${id}.jsonl`),
        log: { info: () => {}, warn: () => {}, debug: () => {} },
        onProgress: (p) => {
          if (Date.now() - last > 2000 || p.done === p.total) {
            last = Date.now();
            process.stderr.write(`bench:calibrate ${id}: ${p.done}/${p.total} (${p.trialsPerSecond.toFixed(1)} trials/s)\n`);
          }
        },
      },
    );
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    cases.push({
      generator: id,
      trials: res.ran,
      nullModes: Object.keys(res.records[0]?.log10pByNullMode ?? {}),
      wallSeconds: Number(wallS.toFixed(1)),
      cpuSeconds: Number(cpuS.toFixed(1)),
      trialsPerSecond: Number((res.ran / wallS).toFixed(2)),
      projectedSecondsFor3000: Number(((3000 / res.ran) * wallS).toFixed(0)),
    });
  }
} finally {
  base.dispose?.();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'calibrate', node: process.version, model: 'local:vtb-base', count: 4, batch, cases }, null, 2));
