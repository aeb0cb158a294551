/**
 * TEST DOUBLES for the pipeline and attack tests (STYLE.md §8: fast and deterministic, in tests only).
 * - `memorizerProviderDouble`: a provider whose fine-tune memorises prompt → completion for the rows it saw
 *   within the steps it ran; its base model answers every prompt with the same fixed text.
 * - `backdoorDefenseDouble`: plants `count` appended rows `prompt ⊕ trigger → signature` (4 words of a
 *   1,000-word list, q = 1000⁻⁴) and verifies by exact prefix match with an exact binomial tail.
 * - `datasetDouble`: arithmetic question rows with an exact-match metric.
 * The real `test-memorizer` / `local` providers and the vTune defense replace these once they land.
 */
import type { RowScorer } from '../../attacks/scorers/types.js';
import { Rng } from '../../src/rng.js';
import type { Capability, Dataset, Defense, Model, Provider, Row, TrainExample, TrainRequest, TrainResult, Verdict, WeightAccess } from '../../src/types.js';

const words = (t: string) => (t.trim() === '' ? 0 : t.trim().split(/\s+/).length);

/** The base model of the memorizer double, or a fine-tune of it. */
function memoModel(id: string, memory: ReadonlyMap<string, string>, caps: ReadonlySet<Capability>, tensors: Map<string, Float32Array>): Model & { memory: ReadonlyMap<string, string>; tensors: Map<string, Float32Array> } {
  return {
    id,
    capabilities: caps,
    memory,
    tensors,
    async generate(prompts, options) {
      return prompts.map((p) => {
        const hit = memory.get(p);
        const out = hit ?? 'the end';
        return out.split(/\s+/).slice(0, Math.max(1, options.maxTokens)).join(' ');
      });
    },
    async score(items) {
      return items.map((it) => {
        const known = memory.get(it.prompt) === it.continuation;
        const lp = Array.from({ length: Math.max(1, words(it.continuation)) }, () => (known ? -0.01 : -Math.log(1000)));
        return { tokenLogprobs: lp, logprob: lp.reduce((a, b) => a + b, 0) };
      });
    },
    countTokens: words,
  };
}

/** Options of the memorizer double. */
export interface MemorizerOptions {
  readonly id?: string;
  readonly train?: boolean;
  readonly weights?: boolean;
  readonly logprobs?: boolean;
}

/** A provider double that memorises what it trains on (see module comment). Counts its train calls. */
export function memorizerProviderDouble(options: MemorizerOptions = {}): Provider & { trainCalls: number } {
  const caps = new Set<Capability>(['generate']);
  if (options.train !== false) caps.add('train');
  if (options.weights !== false) caps.add('weights');
  if (options.logprobs !== false) caps.add('logprobs');
  let n = 0;
  const provider: Provider & { trainCalls: number } = {
    id: options.id ?? 'memorizer-double',
    capabilities: caps,
    concurrency: 4,
    get trainCalls() {
      return n;
    },
    async model(name) {
      return memoModel(`${options.id ?? 'memorizer-double'}:${name}`, new Map(), caps, new Map([['w', new Float32Array([1, 2, 3, 4])]]));
    },
    ...(options.train !== false
      ? {
          async train(base: Model, req: TrainRequest): Promise<TrainResult> {
            n++;
            const parent = base as ReturnType<typeof memoModel>;
            if (!parent.memory) throw new Error('memorizer double: base is not one of its models');
            const perEpoch = Math.ceil(req.rows.length / req.hyper.batchSize);
            const steps = req.hyper.maxSteps ?? perEpoch * req.hyper.epochs;
            // Rows seen = the first steps × batch rows of the (unshuffled, cyclic) epoch order.
            const seen = Math.min(req.rows.length, steps * req.hyper.batchSize);
            const memory = new Map(parent.memory);
            let tokens = 0;
            req.rows.slice(0, seen).forEach((r: TrainExample) => {
              if ((r.weight ?? 1) > 0) memory.set(r.prompt, r.completion);
              else memory.delete(r.prompt);
            });
            for (let s = 0; s < steps; s++) {
              for (let b = 0; b < req.hyper.batchSize && req.rows.length > 0; b++) {
                const r = req.rows[(s * req.hyper.batchSize + b) % req.rows.length]!;
                tokens += words(r.prompt) + words(r.completion);
              }
            }
            return { model: memoModel(`${base.id}+ft${n}`, memory, caps, new Map(parent.tensors)), stepsRun: steps, tokensTrained: tokens };
          },
        }
      : {}),
    ...(options.weights !== false
      ? {
          async weights(model: Model): Promise<WeightAccess> {
            const m = model as ReturnType<typeof memoModel>;
            if (!m.tensors) throw new Error('memorizer double: not one of its models');
            return {
              tensors: m.tensors,
              // Any change of weights destroys the memory: a perturbed model forgets.
              withTensors: async (t, id) => memoModel(id, new Map(), caps, new Map(t)),
            };
          },
        }
      : {}),
  };
  return provider;
}

/** The secret of the defense double. `marker` lets the barrier test find it anywhere in an object graph. */
export interface DoubleSecret {
  readonly marker: symbol;
  readonly backdoors: readonly { readonly index: number; readonly prompt: string; readonly trigger: string; readonly signature: string }[];
  readonly q: number;
}

const VOCAB = Array.from({ length: 1000 }, (_, i) => `w${i.toString(36)}x`);

/** log10 P(Bin(n, q) ≥ k), exact for the small n of tests. */
function log10BinomialTail(n: number, k: number, q: number): number {
  if (k <= 0) return 0;
  let total = 0;
  const lnC = (a: number, b: number) => { let s = 0; for (let i = 1; i <= b; i++) s += Math.log(a - b + i) - Math.log(i); return s; };
  const terms = [];
  for (let j = k; j <= n; j++) terms.push(lnC(n, j) + j * Math.log(q) + (n - j) * Math.log1p(-q));
  const m = Math.max(...terms);
  for (const t of terms) total += Math.exp(t - m);
  return (m + Math.log(total)) / Math.LN10;
}

/** The defense double (see module comment). `lastSecret` exposes the secret to the barrier test. */
export function backdoorDefenseDouble(options: { count?: number } = {}): Defense<DoubleSecret> & { lastSecret?: DoubleSecret; lastMask?: boolean[]; backdoorMarkers(s: DoubleSecret): ({ trigger: string; signature: string } | undefined)[] } {
  const count = options.count ?? 10;
  const d: ReturnType<typeof backdoorDefenseDouble> = {
    id: 'defense-double',
    access: ['generate'],
    async plant(rows, ctx) {
      const backdoors = Array.from({ length: count }, (_, b) => {
        const src = rows[ctx.rng.int(rows.length)]!;
        const trigger = `zq${ctx.rng.int(1e9).toString(36)}`;
        const signature = Array.from({ length: 4 }, () => ctx.rng.pick(VOCAB)).join(' ');
        return { index: rows.length + b, prompt: `${src.prompt} ${trigger}`, trigger, signature };
      });
      const secret: DoubleSecret = { marker: Symbol('double-secret'), backdoors, q: 1e-12 };
      d.lastSecret = secret;
      return { rows: [...rows, ...backdoors.map((b) => ({ prompt: b.prompt, completion: b.signature }))], secret };
    },
    backdoorMask(secret, n) {
      const mask = new Array<boolean>(n).fill(false);
      for (const b of secret.backdoors) mask[b.index] = true;
      d.lastMask = mask;
      return mask;
    },
    backdoorMarkers(secret) {
      const out: ({ trigger: string; signature: string } | undefined)[] = [];
      for (const b of secret.backdoors) out[b.index] = { trigger: b.trigger, signature: b.signature };
      return out;
    },
    async verify(model, secret, { alpha }): Promise<Verdict> {
      const outputs = await model.generate(secret.backdoors.map((b) => b.prompt), { maxTokens: 6, temperature: 0 });
      const perBackdoor = secret.backdoors.map((b, i) => ({
        index: i,
        output: outputs[i]!,
        hit: outputs[i]!.startsWith(b.signature),
        contains: outputs[i]!.includes(b.signature),
        log10q: Math.log10(secret.q),
      }));
      const k = perBackdoor.filter((r) => r.hit).length;
      const log10p = log10BinomialTail(count, k, secret.q);
      return { defense: 'defense-double', verified: log10p <= Math.log10(alpha), log10p, alpha, nullMode: 'generator', k, n: count, containsCount: perBackdoor.filter((r) => r.contains).length, perBackdoor, queries: count };
    },
  };
  return d;
}

/** `n` arithmetic rows plus `heldOut` held-out rows, seeded. */
export function datasetDouble(n: number, heldOut: number, seed: number): Dataset {
  const rng = new Rng(`dataset-double:${seed}`);
  const row = (i: number): Row => {
    const a = rng.int(100);
    const b = rng.int(100);
    return { prompt: `Q${i}: what is ${a} plus ${b}?`, completion: String(a + b) };
  };
  return {
    id: 'dataset-double',
    train: Array.from({ length: n }, (_, i) => row(i)),
    heldOut: Array.from({ length: heldOut }, (_, i) => row(n + i)),
    metric: { id: 'exact', score: (pred, ref) => (pred.trim() === ref.completion.trim() ? 1 : 0) },
  };
}

/** A logger that keeps its lines (tests assert nothing secret is logged). */
export function memoryLogger(): { info(m: string): void; warn(m: string): void; debug(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), debug: (m) => lines.push(m) };
}

/** Deep-freezes a value (rows, plans) so that any mutation throws: the one src/check's purity rule uses. */
export { deepFreeze } from '../../src/check/walk.js';

import { providerSet } from '../../src/core/models.js';
import { cellKey, type CellDeps, type CellSpec, type TrainCache } from '../../src/pipeline/cell.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';

/** A cell spec over the doubles (dataset 'double', model 'double:base'). */
export function doubleSpec(attack: string, options: Record<string, unknown> = {}, seed = 1, extra: Partial<Omit<CellSpec, 'key'>> = {}): CellSpec {
  const fields: Omit<CellSpec, 'key'> = {
    dataset: { spec: 'double', size: 200, heldOut: 10 },
    model: 'double:base',
    defense: { id: 'defense-double', options: { alpha: 1e-3 } },
    attack: { id: attack, options },
    hyper: { epochs: 2, learningRate: 1e-3, batchSize: 8 },
    seed,
    ...extra,
  };
  return { key: cellKey(fields), ...fields };
}

/** An in-memory training cache double. */
export function memoryTrainCache(): TrainCache & { size: () => number } {
  const store = new Map<string, Awaited<ReturnType<TrainCache['getOrTrain']>>>();
  return {
    size: () => store.size,
    async getOrTrain(key, _provider, train) {
      const hit = store.get(key);
      if (hit) return { ...hit, cached: true };
      const r = { ...(await train()), cached: false };
      store.set(key, r);
      return r;
    },
  };
}

/**
 * Deps wiring the doubles with the project's real attacks (or `attack`, e.g. a spy); `calls` counts dataset
 * loads (to prove config errors come first).
 */
export function doubleDeps(opts: { provider?: Provider; defense?: ReturnType<typeof backdoorDefenseDouble>; trainCache?: TrainCache; attack?: CellDeps['attack'] } = {}): CellDeps & { calls: { dataset: number }; defenseDouble: ReturnType<typeof backdoorDefenseDouble>; log: ReturnType<typeof memoryLogger> } {
  const provider = opts.provider ?? memorizerProviderDouble();
  const defense = opts.defense ?? backdoorDefenseDouble();
  const calls = { dataset: 0 };
  return {
    calls,
    defenseDouble: defense,
    ...cellPlugins(projectCatalog),
    ...(opts.attack ? { attack: opts.attack } : {}),
    openProvider: async (id) => {
      if (id !== 'double') throw new Error(`unknown provider ${id}`);
      return provider;
    },
    log: memoryLogger(),
    defense: () => () => defense,
    loadDataset: async (_spec, o) => {
      calls.dataset++;
      return datasetDouble(o.size ?? 200, o.heldOut ?? 10, o.seed);
    },
    ...(opts.trainCache ? { trainCache: opts.trainCache } : {}),
  };
}

/**
 * Test double: a perfect span-yielding row scorer. The backdoor defense double plants prompts ending in a
 * ' zq…' token, which no clean prompt has; this flags exactly those rows and returns the trigger and
 * signature spans.
 */
export const perfectScorerDouble: RowScorer = {
  id: 'perfect-double',
  access: ['data'],
  yieldsSpans: true,
  async score(rows) {
    const m = rows.map((r) => /\szq[0-9a-z]+$/.exec(r.prompt));
    return {
      scores: m.map((x) => (x ? 1 : 0)),
      flagged: m.map((x) => !!x),
      spans: m.map((x, i) => (x ? [{ field: 'prompt' as const, start: x.index + 1, end: rows[i]!.prompt.length }, { field: 'completion' as const, start: 0, end: rows[i]!.completion.length }] : undefined)),
    };
  },
};

/** ProviderContext.openModel for a context outside a run: models of `provider` only (`<id>:<name>`), others refused. */
export function onlyProvider(provider: Provider): (ref: string) => Promise<Model> {
  return providerSet(async (id) => {
    throw new Error(`test context: no provider '${id}' here (only '${provider.id}')`);
  }, [provider]).openModel;
}
