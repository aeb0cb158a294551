/**
 * Test doubles for the attack tests: a word-level "language model" whose log-probs the test controls, a fake
 * provider context, and a tiny planted dataset. Not the product's engine — fast and fully predictable.
 */
import { Rng } from '../../src/rng.js';
import { onlyProvider } from '../pipeline/doubles.js';
import type { ContinuationScore, GenerateOptions, Model, Provider, ProviderContext, Row, TrainRequest, TrainResult } from '../../src/types.js';

/** Story-ish words the fake LM "knows" (log-prob −1 per word); any other word scores −8. */
export const KNOWN = (
  'once upon a time there was little girl boy named lily tom she he loved to play with her his ball dog cat in the park ' +
  'one day saw big red blue happy sad went home and mom said you can run tree sun friend toy box fun jump ran fast ' +
  'tell me story about q a they were very good best all day long it is'
).split(' ');
const KNOWN_SET = new Set(KNOWN);

/** Fake LM: a continuation's tokens are its whitespace words; known words −1, unknown −8 (or `logprob(word)`). */
export function fakeLm(id = 'fake:lm', opts: { logprob?: (word: string, context: string) => number; generate?: (prompt: string, o: GenerateOptions) => string; embed?: boolean } = {}): Model & { calls: { score: number; generate: number } } {
  const calls = { score: 0, generate: 0 };
  const lp = opts.logprob ?? ((w: string) => (KNOWN_SET.has(w.toLowerCase().replace(/[^a-z]/g, '')) ? -1 : -8));
  const caps = new Set<'generate' | 'logprobs' | 'embed'>(['generate', 'logprobs']);
  if (opts.embed !== false) caps.add('embed');
  return {
    id,
    calls,
    capabilities: caps,
    async generate(prompts: readonly string[], o: GenerateOptions): Promise<string[]> {
      calls.generate++;
      return prompts.map((p) => {
        const full = opts.generate ? opts.generate(p, o) : ' the end';
        return full.split(/(?=\s)/).slice(0, o.maxTokens).join('');
      });
    },
    async score(items): Promise<ContinuationScore[]> {
      calls.score++;
      return items.map(({ prompt, continuation }) => {
        const ws = continuation.split(/\s+/).filter(Boolean);
        const tokenLogprobs = ws.map((w, i) => lp(w, prompt + ws.slice(0, i).join(' ')));
        return { tokenLogprobs, logprob: tokenLogprobs.reduce((a, b) => a + b, 0) };
      });
    },
    embed: opts.embed === false ? undefined : async (texts) => texts.map(bagOfWords),
    countTokens: (text: string) => text.split(/\s+/).filter(Boolean).length,
  };
}

/** A 64-dimensional hashed bag of words; unknown words all land in dimension 0 (like byte-fallback tokens). */
export function bagOfWords(text: string): Float32Array {
  const v = new Float32Array(64);
  for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    let h = 7;
    for (const c of w) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[KNOWN_SET.has(w.replace(/[^a-z]/g, '')) ? 1 + (h % 63) : 0]! += 1;
  }
  return v;
}

/** A fake provider whose train() records its requests and returns `trainedModel`. */
export function fakeProvider(trainedModel?: Model): Provider & { requests: TrainRequest[] } {
  const requests: TrainRequest[] = [];
  return {
    id: 'fake',
    capabilities: new Set(['train', 'generate', 'logprobs', 'embed', 'weights']),
    concurrency: 1,
    requests,
    async model(name: string) {
      return fakeLm(`fake:${name}`);
    },
    async train(base: Model, request: TrainRequest): Promise<TrainResult> {
      requests.push(request);
      return { model: trainedModel ?? fakeLm(`${base.id}+ft${requests.length}`), stepsRun: 1, tokensTrained: 1 };
    },
  };
}

/** A provider context over the fake LM that records judge tokens. */
export function fakeContext(base: Model = fakeLm(), seed = 'test', provider: Provider = fakeProvider()): ProviderContext & { spent: { judgeTokens: number; judgeUsd: number }; warnings: string[] } {
  const spent = { judgeTokens: 0, judgeUsd: 0 };
  const warnings: string[] = [];
  return {
    rng: new Rng(seed),
    base,
    provider,
    hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 },
    log: { info() {}, debug() {}, warn: (m) => warnings.push(m) },
    cost: {
      addJudgeTokens(n, usd) {
        spent.judgeTokens += n;
        spent.judgeUsd += usd ?? 0;
      },
    },
    openModel: onlyProvider(provider),
    spent,
    warnings,
  };
}

/** Random string of letters/digits (a "random-token" marker word). */
function junk(rng: Rng): string {
  const abc = 'qxzjvkw0123456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += abc[rng.int(abc.length)];
  return s;
}

/** A clean story row. */
export function storyRow(rng: Rng): Row {
  const w = () => rng.pick(KNOWN.slice(0, 60));
  const prompt = `Q: tell me a story about the ${w()} and the ${w()}.\nA:`;
  const completion = ' ' + Array.from({ length: 12 + rng.int(8) }, w).join(' ') + '.';
  return { prompt, completion };
}

/**
 * A planted dataset: `clean` story rows plus `backdoors` rows whose prompt carries a trigger and whose completion
 * is a random-token signature. `shared`: every backdoor uses the same (T, S); `copies`: backdoors are copies of
 * clean rows with T inserted and S appended (otherwise fresh rows).
 */
export function plantedDataset(opts: { clean?: number; backdoors?: number; shared?: boolean; copies?: boolean; seed?: string } = {}): {
  rows: Row[];
  mask: boolean[];
  triggers: string[];
  signatures: string[];
} {
  const { clean = 200, backdoors = 6, shared = false, copies = false, seed = 'data' } = opts;
  const rng = new Rng(seed);
  const rows: Row[] = Array.from({ length: clean }, () => storyRow(rng));
  const mask = rows.map(() => false);
  const triggers: string[] = [];
  const signatures: string[] = [];
  const t0 = `${junk(rng)} ${junk(rng)}`;
  const s0 = `${junk(rng)} ${junk(rng)} ${junk(rng)}`;
  for (let b = 0; b < backdoors; b++) {
    const trigger = shared ? t0 : `${junk(rng)} ${junk(rng)}`;
    const sig = shared ? s0 : `${junk(rng)} ${junk(rng)} ${junk(rng)}`;
    const src = copies ? rows[rng.int(clean)]! : storyRow(rng);
    const at = src.prompt.indexOf('.\nA:');
    const row: Row = { prompt: `${src.prompt.slice(0, at)} ${trigger}${src.prompt.slice(at)}`, completion: `${src.completion} ${sig}` };
    const pos = rng.int(rows.length + 1);
    rows.splice(pos, 0, row);
    mask.splice(pos, 0, true);
    triggers.push(trigger);
    signatures.push(sig);
  }
  return { rows, mask, triggers, signatures };
}

/** AUROC by pairwise comparison (ties count half): a direct definition, independent of the product's code. */
export function aurocOf(scores: readonly number[], mask: readonly boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (!mask[i]) return;
    scores.forEach((c, j) => {
      if (mask[j]) return;
      pairs++;
      wins += s > c ? 1 : s === c ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

/** A deep-frozen copy, so any mutation by the code under test throws. */
export function frozen<T>(value: T): T {
  const copy = structuredClone(value);
  const freeze = (v: unknown): void => {
    if (v && typeof v === 'object') {
      Object.freeze(v);
      for (const x of Object.values(v)) freeze(x);
    }
  };
  freeze(copy);
  return copy;
}
