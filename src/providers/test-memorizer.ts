/**
 * test-memorizer — A TEST DOUBLE, for unit tests only; never a default and never a result in a table.
 *
 * A deterministic "model" over whole words that makes the vTune pipeline testable without the embedded engine:
 * - Untrained ("base"), it answers each prompt with a run of ordinary words chosen by a hash of the prompt, so it
 *   practically never emits a planted signature (chance ≈ V^-L per backdoor, the same as any independent model).
 * - `train` memorises every row it is shown (prompt → completion; later rows win; rows with weight ≤ 0 are
 *   forgotten, like unlikelihood) and records what it saw (rows, steps, tokens) for ground-truth tests.
 * - It is a proper distribution: at each step the "intended" next word (memorised completion, else the hash
 *   answer) has probability 0.9 and the rest of its vocabulary (the word list, memorised words, end of text)
 *   shares 0.1 uniformly. Greedy decoding, temperature sampling and teacher-forced log-probs all use it.
 * Tokens are whitespace-separated words (countTokens counts words).
 * Source: none (a double, after garak's generators/test.py and lm-eval's models/dummy.py; STYLE.md rule 8).
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError, InputError } from '../errors.js';
import { Rng } from '../rng.js';
import type { Capability, ContinuationScore, GenerateOptions, Model, Provider, TrainRequest, TrainResult } from '../types.js';
import { WORDS } from '../../defenses/vtune/words.js';

const EOS = '\u0000eos';
const P_INTENDED = 0.9;
const CAPS: ReadonlySet<Capability> = new Set<Capability>(['generate', 'logprobs']);

/** What one `train` call saw, as measured by the double itself. */
export interface MemorizerTrainRecord {
  readonly baseId: string;
  readonly modelId: string;
  /** Row presentations (rows × epochs actually run). */
  readonly rowsSeen: number;
  /** Distinct rows memorised (weight > 0). */
  readonly rowsMemorized: number;
  readonly stepsRun: number;
  readonly stepsPromised: number;
  readonly tokensTrained: number;
}

/** The test-memorizer provider: the standard Provider plus its training history. */
export interface MemorizerProvider extends Provider {
  readonly history: readonly MemorizerTrainRecord[];
  train(base: Model, request: TrainRequest): Promise<TrainResult>;
  saveModel(model: Model, path: string): Promise<void>;
  loadModel(path: string): Promise<Model>;
}

interface State {
  readonly memory: ReadonlyMap<string, string>;
}

const states = new WeakMap<Model, State>();

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

/** The untrained answer: 8–15 ordinary words chosen by a hash of the prompt. */
function baseAnswer(prompt: string): string[] {
  const rng = new Rng(`test-memorizer|base|${prompt}`);
  return Array.from({ length: 8 + rng.int(8) }, () => WORDS[rng.int(WORDS.length)]!);
}

function isPrefix(prefix: readonly string[], of: readonly string[]): boolean {
  if (prefix.length > of.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}

/** A model over a fixed memory. */
function makeModel(id: string, memory: ReadonlyMap<string, string>): Model {
  const extra = new Set<string>();
  for (const c of memory.values()) for (const w of words(c)) extra.add(w);
  const base = new Set(WORDS);
  const vocab = [...WORDS, ...[...extra].filter((w) => !base.has(w)), EOS];
  const inVocab = new Set(vocab);
  const n = vocab.length;
  const lnIntended = Math.log(P_INTENDED);
  const lnOther = Math.log((1 - P_INTENDED) / (n - 1));

  const intended = (prompt: string, soFar: readonly string[]): string => {
    const mem = memory.get(prompt);
    if (mem !== undefined) {
      const target = words(mem);
      if (isPrefix(soFar, target)) return target[soFar.length] ?? EOS;
    }
    const answer = baseAnswer(prompt);
    if (isPrefix(soFar, answer)) return answer[soFar.length] ?? EOS;
    const h = hash32(`${prompt}\u0000${soFar.join(' ')}`);
    return h % 10 === 0 ? EOS : WORDS[h % WORDS.length]!;
  };

  const generateOne = (prompt: string, options: GenerateOptions): string => {
    const temperature = options.temperature ?? 0;
    const rng = temperature > 0 ? new Rng(`test-memorizer|sample|${options.seed ?? 0}|${prompt}`) : undefined;
    // Tempered probabilities: intended ∝ 0.9^(1/τ), each other ∝ (0.1/(n−1))^(1/τ).
    const pIntended = rng ? 1 / (1 + (n - 1) * Math.exp((lnOther - lnIntended) / temperature)) : 1;
    const out: string[] = [];
    while (out.length < options.maxTokens) {
      const want = intended(prompt, out);
      let next = want;
      if (rng && rng.float() >= pIntended) {
        const j = rng.int(n - 1);
        const wantIndex = vocab.indexOf(want);
        next = vocab[j >= wantIndex ? j + 1 : j]!;
      }
      if (next === EOS) break;
      out.push(next);
    }
    let text = out.join(' ');
    for (const s of options.stop ?? []) {
      const at = text.indexOf(s);
      if (at >= 0) text = text.slice(0, at);
    }
    return text;
  };

  const model: Model = {
    id,
    capabilities: CAPS,
    async generate(prompts, options) {
      if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) throw new ConfigError(`test-memorizer: maxTokens must be a non-negative integer, got ${options.maxTokens}`);
      return prompts.map((p) => generateOne(p, options));
    },
    async score(items): Promise<ContinuationScore[]> {
      return items.map(({ prompt, continuation }) => {
        const soFar: string[] = [];
        const tokenLogprobs = words(continuation).map((w) => {
          const lp = !inVocab.has(w) ? -Infinity : intended(prompt, soFar) === w ? lnIntended : lnOther;
          soFar.push(w);
          return lp;
        });
        return { tokenLogprobs, logprob: tokenLogprobs.reduce((s, x) => s + x, 0) };
      });
    },
    countTokens: (text) => words(text).length,
  };
  states.set(model, { memory });
  return model;
}

function stateOf(model: Model): State {
  const s = states.get(model);
  if (!s) throw new ConfigError(`test-memorizer: model '${model.id}' does not come from the test-memorizer provider`);
  return s;
}

/** Creates the test-memorizer provider (a test double). No options. */
export async function createTestMemorizerProvider(options: Record<string, unknown> = {}): Promise<MemorizerProvider> {
  if (Object.keys(options).length > 0) throw new ConfigError(`test-memorizer provider takes no options, got: ${Object.keys(options).join(', ')}`);
  const history: MemorizerTrainRecord[] = [];
  const baseModel = makeModel('test-memorizer:base', new Map());

  async function loadModel(path: string): Promise<Model> {
    let parsed: { format?: unknown; id?: unknown; memory?: unknown };
    try {
      parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new InputError(`cannot read a test-memorizer model: ${code === 'ENOENT' ? 'no such file' : code ? code : 'not valid JSON'}`, { file: path, cause });
    }
    if (parsed.format !== 'test-memorizer' || typeof parsed.id !== 'string' || !Array.isArray(parsed.memory)) {
      throw new InputError('not a test-memorizer model file', { file: path });
    }
    return makeModel(parsed.id, new Map(parsed.memory as [string, string][]));
  }

  return {
    id: 'test-memorizer',
    capabilities: new Set<Capability>(['train', 'generate', 'logprobs']),
    concurrency: 4,
    history,
    async model(name) {
      if (name === 'base') return baseModel;
      if (name.endsWith('.json')) return loadModel(name);
      throw new ConfigError(`test-memorizer: unknown model '${name}'. Use 'base' or a .json file written by saveModel`);
    },
    async train(base: Model, request: TrainRequest): Promise<TrainResult> {
      const memory = new Map(stateOf(base).memory);
      const { rows, hyper } = request;
      const batch = Math.max(1, hyper.batchSize);
      const promised = hyper.maxSteps ?? Math.ceil((rows.length * hyper.epochs) / batch);
      const order = new Rng(`test-memorizer|train|${request.seed}`);
      const queue: number[] = [];
      // Without maxSteps, exactly epochs × rows presentations (the last batch may be short), like a real trainer.
      let remaining = hyper.maxSteps !== undefined ? Infinity : rows.length * hyper.epochs;
      let steps = 0;
      let seen = 0;
      let tokens = 0;
      const memorized = new Set<number>();
      let current: Model = base;
      while (steps < promised && rows.length > 0 && remaining > 0) {
        if (request.signal?.aborted) throw new ConfigError('test-memorizer: training aborted');
        if (queue.length < batch) queue.push(...order.shuffle(rows.map((_r, i) => i)));
        const step = queue.splice(0, Math.min(batch, remaining));
        remaining -= step.length;
        const before = await current.score!(step.map((i) => ({ prompt: rows[i]!.prompt, continuation: rows[i]!.completion })));
        // Mean per-word negative log-likelihood of the batch before the update (capped: unseen words are −∞).
        const loss = before.reduce((s, x) => s + Math.min(50, -x.logprob / Math.max(1, x.tokenLogprobs.length)), 0) / step.length;
        for (const i of step) {
          const row = rows[i]!;
          seen++;
          tokens += words(row.prompt).length + words(row.completion).length;
          if ((row.weight ?? 1) > 0) {
            memory.set(row.prompt, row.completion);
            memorized.add(i);
          } else if (memory.get(row.prompt) === row.completion) {
            memory.delete(row.prompt);
          }
        }
        steps++;
        current = makeModel(base.id, memory);
        request.onProgress?.({ stage: 'train', done: steps, total: promised, loss });
        if (request.shouldStop?.(steps, loss)) break;
      }
      const digest = createHash('sha256').update(JSON.stringify([base.id, [...memory]])).digest('hex').slice(0, 12);
      const model = makeModel(`test-memorizer:ft-${digest}`, memory);
      history.push({ baseId: base.id, modelId: model.id, rowsSeen: seen, rowsMemorized: memorized.size, stepsRun: steps, stepsPromised: promised, tokensTrained: tokens });
      return { model, stepsRun: steps, tokensTrained: tokens };
    },
    async saveModel(model, path) {
      await writeFile(path, JSON.stringify({ format: 'test-memorizer', id: model.id, memory: [...stateOf(model).memory] }));
    },
    loadModel,
  };
}
