/**
 * Measures the pipeline's done-when figures (issue #6) on a chosen provider and prints JSON lines: per cell
 * the verdict, log10 p, ground truth and timings, then a summary per attack. Long: not a test.
 *
 *   npx tsx bench/pipeline.ts [--model local:vtb-base] [--dataset stories] [--size 60] [--seeds 1-3]
 *                             [--attacks 'honest;detect-then-train{"scorer":"near-duplicate"}'] [--epochs 8]
 *                             [--lr 3e-3] [--batch 8] [--count 4] [--utility 5|0] [--defense '{"nullMode":"empirical"}']
 */
import { cellKey, runCell, type CellSpec } from '../src/pipeline/cell.js';
import { providers } from '../src/providers/index.js';
import type { Provider } from '../src/types.js';
import { cellPlugins, projectCatalog } from '../src/runner/catalog.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const [lo, hi] = opt('seeds', '1-3').split('-').map(Number) as [number, number];
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
// Each entry: an id, optionally followed by JSON options: detect-then-train{"scorer":"near-duplicate"}; ';'-separated.
const attackSpecs = opt('attacks', 'honest;return-base;train-without-backdoors;oracle-keep-only-flagged')
  .split(/[;,](?![^{]*})/)
  .map((s) => {
    const at = s.indexOf('{');
    return at < 0 ? { id: s, options: {} } : { id: s.slice(0, at), options: JSON.parse(s.slice(at)) as Record<string, unknown> };
  });
const opened = new Map<string, Promise<Provider>>();
const log = { info: (m: string) => process.stderr.write(m + '\n'), warn: (m: string) => process.stderr.write(m + '\n'), debug: () => {} };
const openProvider = (id: string) => {
  if (!opened.has(id)) opened.set(id, Promise.resolve((providers.get(id) as (o: object) => Provider | Promise<Provider>)({})));
  return opened.get(id)!;
};
const defenseOptions = JSON.parse(opt('defense', '{}')) as Record<string, unknown>;

const summary: Record<string, { n: number; verified: number; defenseWon: number; rowsTrainedFraction: number[]; log10p: number[]; ms: number[] }> = {};
for (const seed of seeds) {
  for (const { id: attack, options: attackOptions } of attackSpecs) {
    const label = Object.keys(attackOptions).length > 0 ? `${attack}${JSON.stringify(attackOptions)}` : attack;
    const fields: Omit<CellSpec, 'key'> = {
      dataset: { spec: opt('dataset', 'stories'), size: Number(opt('size', '60')), heldOut: Number(opt('heldOut', '5')) },
      model: opt('model', 'local:vtb-base'),
      defense: { id: 'vtune', options: { count: Number(opt('count', '4')), ...defenseOptions } },
      attack: { id: attack, options: attackOptions },
      hyper: { epochs: Number(opt('epochs', '8')), learningRate: Number(opt('lr', '3e-3')), batchSize: Number(opt('batch', '8')), schedule: 'cosine' },
      seed,
      utility: opt('utility', '5') === '0' ? false : { maxRows: Number(opt('utility', '5')) },
    };
    const t0 = performance.now();
    const out = await runCell({ key: cellKey(fields), ...fields }, { ...cellPlugins(projectCatalog), openProvider, log });
    const ms = Math.round(performance.now() - t0);
    console.log(JSON.stringify({ kind: 'cell', model: fields.model, attack: label, seed, verified: out.verdict.verified, log10p: out.verdict.log10p, k: out.verdict.k, n: out.verdict.n, defenseWon: out.defenseWon, truth: out.truth, utility: out.utility, cost: out.cost, detection: out.detection, ms, sample: out.verdict.perBackdoor[0]?.output.slice(0, 60) }));
    const s = (summary[label] ??= { n: 0, verified: 0, defenseWon: 0, rowsTrainedFraction: [], log10p: [], ms: [] });
    s.n++;
    s.verified += out.verdict.verified ? 1 : 0;
    s.defenseWon += out.defenseWon ? 1 : 0;
    s.rowsTrainedFraction.push(out.truth.rowsTrained / out.truth.rowsSubmitted);
    s.log10p.push(Number(out.verdict.log10p.toFixed(2)));
    s.ms.push(ms);
  }
}
console.log(JSON.stringify({ kind: 'summary', model: opt('model', 'local:vtb-base'), summary }));
for (const p of opened.values()) await (await p).close?.();
