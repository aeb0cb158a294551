/**
 * Issue 15, long rows: which backdoors of the `long-rows` scenario's honest cells sat on rows longer than the
 * context, and whether they hit. Records hold each backdoor's hit but not its row, so this replants every honest
 * cell exactly as the pipeline did (the same dataset and planting streams of the cell's keys) and checks the
 * replay against the record: the number of training rows the trainer cut must equal the count in the cell's
 * warning, or the cell is reported as a mismatch.
 *
 *   npx tsx bench/long-rows.ts [records.jsonl | records.jsonl.gz | run folder]   (default: results/long-rows)
 *
 * Needs ../shared/data/adversarial-qa.jsonl (real data, never committed) to replant: without it, it stops saying
 * so. Run it from the repository root (the scenario names the file relative to it).
 */
import { vtune } from '../defenses/vtune/index.js';
import { loadDataset } from '../src/datasets/index.js';
import { dataKey, pairKey } from '../src/pipeline/cell.js';
import { createLocalProvider, localState, tokenizeRow } from '../src/providers/local.js';
import { findRecordsFiles, latestByCell, readRecordsFile } from '../src/records/store.js';
import type { TrialRecord } from '../src/records/schema.js';
import { streamFor } from '../src/rng.js';
import { projectCatalog } from '../src/runner/catalog.js';
import { expandCells } from '../src/runner/expand.js';
import { loadScenario } from '../src/runner/scenario.js';
import { sharedPath } from '../src/shared-path.js';
import type { Model } from '../src/types.js';

if (!sharedPath('data/adversarial-qa.jsonl')) {
  console.error('bench/long-rows: ../shared/data/adversarial-qa.jsonl is absent; replanting needs it (see ../shared/README.md)');
  process.exit(2);
}
const input = process.argv[2] ?? 'results/long-rows';
const trials = new Map<string, TrialRecord>();
for (const r of latestByCell(findRecordsFiles(input).flatMap((f) => readRecordsFile(f).records)).trials) trials.set(r.cellKey, r);

const { scenario } = await loadScenario('long-rows', projectCatalog);
const provider = await createLocalProvider();
const real = await provider.model('vtb-base');
const { tokenizer } = localState(real);
const context = real.contextLength!;
// vtb-base's token counts and context without its log-probs: the draws do not depend on them (only the
// base-model null's scores would, which this count does not need).
const model: Model = { id: real.id, capabilities: new Set(['generate']), generate: real.generate, countTokens: real.countTokens!, contextLength: context };
/** A dataset as shown: a file by its name. */
const name = (datasetSpec: string) => datasetSpec.replace(/^file:.*\//, '');
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

const tally = new Map<string, { hit: number; n: number }>();
let mismatches = 0;
console.log('| dataset | seed | backdoor rows: tokens, hit ✓ / miss ✗ | rows cut (replay / record) |');
console.log('| --- | --- | --- | --- |');
for (const { spec } of expandCells(scenario, projectCatalog.cellKey)) {
  const record = trials.get(spec.key);
  if (!record || spec.attack.id !== 'honest') continue;
  const ds = await loadDataset(spec.dataset.spec, { seed: streamFor(dataKey(spec), 'dataset').seed31(), size: spec.dataset.size, heldOut: spec.dataset.heldOut });
  const { secret, rows } = await vtune(spec.defense.options).plant(ds.train, { rng: streamFor(pairKey(spec), 'planting'), log: quiet, baseModel: model, generatorModel: model });
  const cut = rows.filter((row) => tokenizeRow(tokenizer, row, context).truncated).length;
  const recorded = Number(/(\d+) of \d+ rows longer/.exec(record.warnings?.[0] ?? '')?.[1] ?? 0);
  if (cut !== recorded) mismatches++;
  const shown = secret.backdoors.map((b, i) => {
    const length = tokenizeRow(tokenizer, rows[b.rowIndex]!, 1 << 20).tokens.length;
    const key = `${name(spec.dataset.spec)}, backdoor row ${length > context ? `longer than ${context} tokens` : 'fits'}`;
    const t = tally.get(key) ?? { hit: 0, n: 0 };
    t.n++;
    if (record.verdict.hits[i]) t.hit++;
    tally.set(key, t);
    return `${length}${record.verdict.hits[i] ? '✓' : '✗'}`;
  });
  console.log(`| ${name(spec.dataset.spec)} | ${spec.seed} | ${shown.join(' ')} | ${cut} / ${recorded}${cut === recorded ? '' : ' MISMATCH'} |`);
}
console.log('\n| backdoors | hit |\n| --- | --- |');
for (const [key, { hit, n }] of tally) console.log(`| ${key} | ${hit}/${n} |`);
if (mismatches > 0) {
  console.error(`${mismatches} cell(s) did not replay as recorded: their rows above are not the run's`);
  process.exit(1);
}
process.exit(0);
