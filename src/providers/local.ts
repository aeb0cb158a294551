/**
 * `local` provider: the embedded engine (src/engine) as a Provider. Opens llama GGUF files and built-in models,
 * fine-tunes in-process on the CPU, and answers generate / score / embed / weight queries exactly.
 *
 * Threat model: this is the honest reference provider — everything it reports (steps, tokens, losses) is
 * measured by the engine itself, and it gives attacks white-box weight access. Tokenisation is the one place
 * where training and querying must agree: a prompt is always `[BOS] + encode(prompt)` and a completion or
 * continuation is `encode(text, { prefixSpace: false })` appended to it (after an empty prompt it is the start
 * of the text and keeps the dummy-prefix space), in training, generation and scoring alike, so a signature
 * trained as a completion is scored token for token as it was trained.
 *
 * Source: DESIGN.md §5–6; llama2.c's prompt/completion convention (BOS, dummy-prefix space, EOS ends a sample).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { kernelVariant } from '../engine/kernels.js';
import { saveModelFile, loadModelBytes } from '../engine/load.js';
import { SpmTokenizer, byteLevelTokenizerData } from '../engine/tokenizer.js';
import { describeRowFits } from '../pipeline/row-fit.js';
import type { LlamaConfig, LlamaTensors } from '../engine/types.js';
import { canonicalJson } from '../core/canonical-json.js';
import { ConfigError, EngineError, ProviderError } from '../errors.js';
import { defineProvider, z } from '../plugins/define.js';
import { parseHyper } from '../plugins/hyper.js';
import { unknownMessage } from '../registry.js';
import { creatorOf, positiveIntOption } from './options.js';
import { repoRoot, sharedPath } from '../shared-path.js';
import type {
  Capability,
  ContinuationScore,
  GenerateOptions,
  Model,
  Provider,
  RowFit,
  TrainExample,
  TrainRequest,
  TrainResult,
  WeightAccess,
} from '../types.js';

/** The `local` provider's options, declared once: types, validation (field paths, "did you mean"), defaults, help. */
export const localOptions = z.object({
  threads: positiveIntOption(
    "threads per fine-tune (default: 1 when concurrency > 1, else the engine's choice, both cores); results are bit-identical for any thread count (src/engine/train.ts)",
  ),
  // Its default depends on the host (defaultLocalConcurrency), so it is filled in when the provider opens. Above
  // 1, every fine-tune trains on worker threads (the engine's `offload`), so that two fine-tunes train at once,
  // each on its own core, and a cell's verification and utility run while another cell trains: on this project's
  // 2-core reference machine that beats one two-thread fine-tune at a time, whose second thread scales well
  // below 2× on vtb-base-sized models.
  concurrency: positiveIntOption(
    'cells using the provider at once (default: 2 on a host with at least 2 cores, else 1); above 1, every fine-tune trains on worker threads, so two fine-tunes train at once, each on its own core (bench/throughput.ts compares the two)',
  ),
});

/** The `local` provider's default concurrency: one cell per core, at most 2. */
export function defaultLocalConcurrency(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** stories260K.gguf as pinned in ../shared/notes/engine.md §2. */
export const STORIES260K_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';

/** The project's own base model (models/README.md: recipe `vtune-bench pretrain`, measured quality). */
export const VTB_BASE_FILE = 'models/vtb-base.gguf';
/** sha256 of the committed models/vtb-base.gguf; a different file is refused rather than silently benchmarked. */
export const VTB_BASE_SHA256 = '175d5a0e9e912c4d910ddc9086d46c3bb90bb153eee2cba989a4b9422a2b0ad3';

/** The seeded random model behind `random-tiny` (byte-level tokenizer, ~30k parameters). */
export const RANDOM_TINY_CONFIG: LlamaConfig = {
  vocabSize: 354,
  dim: 32,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  hiddenDim: 64,
  contextLength: 256,
  normEps: 1e-5,
  ropeTheta: 10000,
  tiedEmbeddings: true,
};
const RANDOM_TINY_SEED = 20240601;

const CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['train', 'generate', 'logprobs', 'embed', 'weights']);

// ───────────────────────────── the engine, loaded lazily ─────────────────────────────

type Engine = typeof import('../engine/index.js');
type EngineModel = Engine['LlamaModel']['prototype'];
let enginePromise: Promise<Engine> | undefined;
function loadEngine(): Promise<Engine> {
  enginePromise ??= import('../engine/index.js');
  return enginePromise;
}

/** What a local Model carries besides the Model interface. */
export interface LocalState {
  readonly engine: Engine;
  readonly weights: EngineModel;
  readonly tokenizer: SpmTokenizer;
}

const states = new WeakMap<Model, LocalState>();

/** The engine model and tokenizer behind a model opened or trained by a `local` provider. */
export function localState(model: Model): LocalState {
  const s = states.get(model);
  if (!s) throw new ProviderError(`model '${model.id}' was not made by the local provider (a wrapped model has no engine weights)`);
  return s;
}

// ───────────────────────────── the provider ─────────────────────────────

/** A `local` provider: Provider plus saveModel/loadModel for GGUF files. */
export interface LocalProvider extends Provider {
  train(base: Model, request: TrainRequest): Promise<TrainResult>;
  fitRows(base: Model, rows: readonly TrainExample[]): Promise<RowFit[]>;
  weights(model: Model): Promise<WeightAccess>;
  saveModel(model: Model, path: string): Promise<void>;
  loadModel(path: string): Promise<Model>;
}

/** The `local` provider, declared: `createLocalProvider(options)` validates them by the declaration, then opens it. */
export const localProvider = defineProvider({
  id: 'local',
  description: 'the embedded CPU engine (Llama architecture, WASM SIMD): trains and serves in-process, bit-reproducible',
  capabilities: ['train', 'generate', 'logprobs', 'embed', 'weights'],
  options: localOptions,
  create: openLocalProvider,
});

/**
 * Creates the `local` provider (the embedded engine): validates `options` by its declaration (a bad one is a
 * rejected promise), then opens it. The engine itself is loaded on first use.
 */
export const createLocalProvider = creatorOf(localProvider);

async function openLocalProvider(options: z.output<typeof localOptions>): Promise<LocalProvider> {
  const concurrency = options.concurrency ?? defaultLocalConcurrency();
  // Cells at once each train on their own worker thread(s); one cell at a time trains on the calling thread too.
  const offload = concurrency > 1;
  const threads = options.threads ?? (offload ? 1 : undefined);

  const builtins: Record<string, () => Promise<Model>> = {
    stories260K: async () => {
      const p = sharedPath('models/stories260K.gguf');
      if (!p) {
        throw new ConfigError(
          "local model 'stories260K' needs the file models/stories260K.gguf in the shared folder (../shared beside the repository, or $VTUNE_SHARED), and it is missing; the project's own base model 'local:vtb-base' needs no shared folder",
        );
      }
      const bytes = await readFile(p);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== STORIES260K_SHA256) throw new EngineError(`${p}: sha256 ${sha} is not the pinned stories260K.gguf (${STORIES260K_SHA256})`);
      // The file says 2048 (the converter's default); the model was trained on 512-token windows (tinyllamas),
      // and RoPE positions beyond that were never seen, so the built-in keeps prompts inside what it knows.
      return fromBytes(bytes, p, 'local:stories260K', { contextLength: 512 });
    },
    'vtb-base': async () => {
      const p = `${repoRoot}/${VTB_BASE_FILE}`;
      let bytes: Uint8Array;
      try {
        bytes = await readFile(p);
      } catch (cause) {
        throw new ConfigError(`local model 'vtb-base' needs ${VTB_BASE_FILE} in the repository (rebuild it with 'vtune-bench pretrain'): ${(cause as Error).message}`, { cause });
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== VTB_BASE_SHA256) throw new EngineError(`${p}: sha256 ${sha} is not the pinned vtb-base (${VTB_BASE_SHA256}); restore the committed file`);
      return fromBytes(bytes, p, 'local:vtb-base');
    },
    'random-tiny': async () => {
      const engine = await loadEngine();
      const weights = engine.LlamaModel.create(RANDOM_TINY_CONFIG, { seed: RANDOM_TINY_SEED, scale: 0.05 });
      return makeModel('local:random-tiny', { engine, weights, tokenizer: new SpmTokenizer(byteLevelTokenizerData()) });
    },
  };

  async function fromBytes(bytes: Uint8Array, source: string, id: string, override: Partial<LlamaConfig> = {}): Promise<Model> {
    const loaded = loadModelBytes(bytes, source);
    const engine = await loadEngine();
    const weights = engine.LlamaModel.create({ ...loaded.config, ...override }, loaded.tensors);
    const stored = loaded.metadata.get('vtune.model_id');
    return makeModel(stored?.type === 'string' ? stored.value : id, { engine, weights, tokenizer: loaded.tokenizer });
  }

  async function openFile(path: string): Promise<Model> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new ConfigError(`local provider: cannot read model file ${path}: ${(cause as Error).message}`, { cause });
    }
    // the content hash keeps two different files of the same name apart (ids key the training cache)
    const sha8 = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
    return fromBytes(bytes, path, `local:${basename(path).replace(/\.gguf$/i, '')}-${sha8}`);
  }

  const provider: LocalProvider = {
    id: 'local',
    capabilities: CAPABILITIES,
    concurrency,
    // fma and portable kernels round differently: a cached fine-tune of one must not stand in for the other.
    cacheSalt: `kernels:${kernelVariant()}`,

    async model(name: string): Promise<Model> {
      if (typeof name !== 'string' || name.length === 0) throw new ConfigError('local provider: a model name or .gguf path is required');
      const builtin = Object.prototype.hasOwnProperty.call(builtins, name) ? builtins[name] : undefined;
      if (builtin) return builtin();
      // `hf:owner/repo/file.gguf[@revision]`: fetched once into the Hub cache (src/providers/hf.ts).
      if (name.startsWith('hf:')) {
        const { downloadHubFile, parseHubSpec } = await import('./hf.js');
        return openFile(await downloadHubFile(parseHubSpec(name.slice(3))));
      }
      if (/\.gguf$/i.test(name) || name.includes('/') || name.includes('\\')) return openFile(name);
      throw new ConfigError(`${unknownMessage('local model', name, Object.keys(builtins))} (or give a path to a .gguf file)`);
    },

    async train(base: Model, request: TrainRequest): Promise<TrainResult> {
      const state = localState(base);
      const hyper = parseHyper(request.hyper, { subject: 'local provider' });
      if (!Number.isInteger(request.seed)) throw new ConfigError(`local provider: train seed must be an integer, got ${String(request.seed)}`);
      if (request.rows.length === 0) throw new ConfigError('local provider: cannot fine-tune on zero rows');
      const ctx = state.weights.config.contextLength;
      const tokenized = request.rows.map((row, i) => tokenizeRow(state.tokenizer, row, ctx, i));
      const fits = rowFits(tokenized);
      const message = describeRowFits(fits, request.rows.length, ctx);
      if (message) request.onProgress?.({ stage: 'tokenize', done: request.rows.length, total: request.rows.length, message });
      const examples = tokenized.filter((t) => !t.refused);
      if (examples.length === 0) throw new ConfigError(`local provider: no row fits the context: ${message}`);
      let lastLoss: number | undefined;
      const result = await state.engine.fineTune(state.weights, examples, {
        epochs: hyper.epochs,
        learningRate: hyper.learningRate,
        batchSize: hyper.batchSize,
        seed: request.seed,
        maxSteps: hyper.maxSteps,
        warmupSteps: hyper.warmupSteps,
        schedule: hyper.schedule,
        weightDecay: hyper.weightDecay,
        lora: hyper.lora,
        threads,
        offload,
        signal: request.signal,
        shouldStop: request.shouldStop,
        onStep: (info) => {
          lastLoss = info.loss;
          request.onProgress?.({ stage: 'train', done: info.step, total: info.totalSteps, loss: info.loss, tokens: info.tokens });
        },
      });
      const id = `local:ft-${fineTuneHash(base.id, request)}`;
      const model = makeModel(id, { engine: state.engine, weights: result.model, tokenizer: state.tokenizer });
      const finalLoss = result.losses.length > 0 ? result.losses[result.losses.length - 1] : lastLoss;
      return { model, stepsRun: result.stepsRun, tokensTrained: result.tokensTrained, ...(finalLoss !== undefined ? { finalLoss } : {}) };
    },

    async fitRows(base: Model, rows: readonly TrainExample[]): Promise<RowFit[]> {
      const state = localState(base);
      return rowFits(rows.map((row, i) => tokenizeRow(state.tokenizer, row, state.weights.config.contextLength, i)));
    },

    async weights(model: Model): Promise<WeightAccess> {
      const state = localState(model);
      return {
        tensors: state.weights.tensors(),
        async withTensors(tensors: ReadonlyMap<string, Float32Array>, id: string): Promise<Model> {
          const merged = new Map(state.weights.tensors());
          for (const [name, data] of tensors) {
            if (!merged.has(name)) throw new ConfigError(`withTensors: '${name}' is not a tensor of model '${model.id}'`);
            merged.set(name, data);
          }
          const weights = state.engine.LlamaModel.create(state.weights.config, merged as LlamaTensors);
          return makeModel(id, { engine: state.engine, weights, tokenizer: state.tokenizer });
        },
      };
    },

    async saveModel(model: Model, path: string): Promise<void> {
      const state = localState(model);
      await saveModelFile(
        path,
        {
          name: model.id,
          config: state.weights.config,
          tensors: state.weights.tensors(),
          tokenizer: state.tokenizer,
          extraMetadata: new Map([['vtune.model_id', { type: 'string', value: model.id }]]),
        },
        { overwrite: true },
      );
    },

    loadModel: (path: string) => openFile(path),
  };
  return provider;
}

// ───────────────────────────── models ─────────────────────────────

function makeModel(id: string, state: LocalState): Model {
  const { engine, weights, tokenizer } = state;
  const ctx = weights.config.contextLength;
  const promptIds = (prompt: string): number[] => tokenizer.encode(prompt, { bos: true });
  const model: Model = {
    id,
    capabilities: CAPABILITIES,
    contextLength: ctx,

    async generate(prompts: readonly string[], options: GenerateOptions): Promise<string[]> {
      const maxTokens = options.maxTokens;
      if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens >= ctx) {
        throw new ConfigError(`generate: maxTokens must be an integer from 1 to ${ctx - 1} (the context is ${ctx}), got ${String(maxTokens)}`);
      }
      const inputs = prompts.map((p) => fitContext(promptIds(p), ctx - maxTokens));
      const out = await engine.generate(weights, inputs, {
        maxTokens,
        temperature: options.temperature ?? 0,
        topP: options.topP,
        seed: options.seed ?? 0,
        // BOS too: llama2.c-style base models (stories260K) separate documents with BOS and never saw EOS
        stopTokens: [tokenizer.eos, tokenizer.bos],
      });
      const full = out.map((ids, i) => tokenizer.decode(ids, { prefixSpace: startsText(prompts[i]!) }));
      const texts = full.map((t) => cutAtStop(t, options.stop));
      options.onUsage?.(out.map((ids, i) => ({ promptTokens: inputs[i]!.length, completionTokens: ids.length, finishReason: ids.length >= maxTokens && texts[i] === full[i] ? 'length' : 'stop' })));
      return texts;
    },

    async score(items: readonly { readonly prompt: string; readonly continuation: string }[]): Promise<ContinuationScore[]> {
      const pairs = items.map((it, i) => {
        const prompt = promptIds(it.prompt);
        const continuation = tokenizer.encode(it.continuation, { prefixSpace: startsText(it.prompt) });
        // BOS comes first, so at most ctx − 1 continuation tokens fit (a continuation of exactly ctx tokens does not).
        if (continuation.length >= ctx) throw new EngineError(`score: continuation #${i} is ${continuation.length} tokens; with BOS that is ${continuation.length + 1}, more than the context (${ctx}): at most ${ctx - 1} continuation tokens fit`);
        return { prompt: fitContext(prompt, ctx - continuation.length), continuation };
      });
      const lps = await engine.scoreTokens(weights, pairs);
      return lps.map((lp) => {
        const tokenLogprobs = Array.from(lp);
        return { tokenLogprobs, logprob: tokenLogprobs.reduce((a, b) => a + b, 0) };
      });
    },

    async embed(texts: readonly string[]): Promise<Float32Array[]> {
      return engine.embed(weights, texts.map((t) => fitContext(promptIds(t), ctx)));
    },

    countTokens: (text: string) => tokenizer.encode(text).length,

    sampling: {
      vocabSize: tokenizer.vocabSize,
      stopTokens: [tokenizer.eos, tokenizer.bos],
      async nextTokenLogprobs(items, options): Promise<Float64Array[]> {
        const maxTokens = options.maxTokens;
        if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens >= ctx) {
          throw new ConfigError(`nextTokenLogprobs: maxTokens must be an integer from 1 to ${ctx - 1} (the context is ${ctx}), got ${String(maxTokens)}`);
        }
        // The prompt is encoded and fitted exactly as `generate` does for the same maxTokens.
        const prompts = new Map<string, number[]>();
        const seqs = items.map((it) => {
          let p = prompts.get(it.prompt);
          if (!p) prompts.set(it.prompt, (p = fitContext(promptIds(it.prompt), ctx - maxTokens)));
          return [...p, ...it.tokens];
        });
        const logits = engine.nextTokenLogits(weights, seqs);
        return logits.map((l) => samplingLogprobs(l, options.temperature ?? 0, options.topP ?? 1));
      },
      decode: (prompt: string, tokens: readonly number[]) => tokenizer.decode(tokens, { prefixSpace: startsText(prompt) }),
    },

    dispose: () => weights.dispose(),
  };
  states.set(model, state);
  return model;
}

/**
 * Whether a continuation after `prompt` starts the text (the prompt is empty), and so is encoded with the
 * dummy-prefix space like any text, instead of being glued to the prompt's tokens.
 */
export function startsText(prompt: string): boolean {
  return prompt.length === 0;
}

/**
 * ln P(token j) under the engine's `pick` (src/engine/infer.ts) for these logits: a point mass on the first
 * argmax when greedy; else p_j ∝ exp((l_j − max)/τ) in double precision, restricted to the nucleus `pick` keeps
 * (tokens by decreasing p, ties by id, up to the first cumulative mass ≥ topP) and renormalised over it.
 */
function samplingLogprobs(logits: Float32Array, temperature: number, topP: number): Float64Array {
  const V = logits.length;
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[j]! > logits[best]!) best = j;
  const out = new Float64Array(V).fill(-Infinity);
  if (!(temperature > 0)) {
    out[best] = 0;
    return out;
  }
  const mx = logits[best]!;
  const p = Float64Array.from(logits, (l) => Math.exp((l - mx) / temperature));
  let keep: number[];
  if (topP < 1) {
    let z = 0;
    for (let j = 0; j < V; j++) z += p[j]!;
    const order = Array.from({ length: V }, (_, j) => j).sort((x, y) => p[y]! - p[x]! || x - y);
    let cum = 0;
    keep = order;
    for (let i = 0; i < V; i++) {
      cum += p[order[i]!]! / z;
      if (cum >= topP) {
        keep = order.slice(0, i + 1);
        break;
      }
    }
  } else {
    keep = Array.from({ length: V }, (_, j) => j);
  }
  let mass = 0;
  for (const j of keep) mass += p[j]!;
  const lnMass = Math.log(mass);
  for (const j of keep) out[j] = Math.log(p[j]!) - lnMass;
  return out;
}

/** Keeps BOS and the last `limit - 1` tokens (the end of a prompt matters most for what comes next). */
function fitContext(ids: number[], limit: number): number[] {
  if (ids.length <= limit) return ids;
  return [ids[0]!, ...ids.slice(ids.length - (limit - 1))];
}

/** The text up to the earliest stop string. */
function cutAtStop(text: string, stop: readonly string[] | undefined): string {
  let end = text.length;
  for (const s of stop ?? []) {
    if (s.length === 0) continue;
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

// ───────────────────────────── training data ─────────────────────────────

/** A row as the engine trains it. */
export interface TokenizedRow {
  readonly tokens: number[];
  /** lossWeights[t] weights the prediction of tokens[t + 1]; 0 on the prompt. */
  readonly lossWeights: Float32Array;
  /** The row did not fit the context whole: its prompt was cut, or it was refused. */
  readonly truncated: boolean;
  /** Prompt tokens dropped from the start of the prompt (after BOS) to fit the context. */
  readonly promptTokensDropped: number;
  /** The prompt text that reached the model, when its start was cut (decoded from the kept tokens). */
  readonly keptPrompt?: string;
  /** BOS + completion + EOS alone exceed the context: the row is left out of training (tokens are empty). */
  readonly refused: boolean;
}

/**
 * `[BOS] + prompt` (masked) followed by `completion + EOS` (weighted by the row weight, or by the span that
 * covers a token; EOS takes the weight of the completion's last token). A row longer than `contextLength`
 * loses the START of its prompt (BOS is kept, as generation keeps BOS and the prompt's end): a backdoor's
 * signature is never cut, and a suffix trigger stays next to it. A completion that does not fit even after
 * the whole prompt is gone is never cut either: the row is refused (`refused`, empty tokens).
 */
export function tokenizeRow(tokenizer: SpmTokenizer, row: TrainExample, contextLength: number, index = 0): TokenizedRow {
  const where = `row #${index}`;
  if (typeof row.prompt !== 'string' || typeof row.completion !== 'string') throw new ConfigError(`${where}: prompt and completion must be strings`);
  const weight = row.weight ?? 1;
  if (!Number.isFinite(weight)) throw new ConfigError(`${where}: weight must be a finite number, got ${String(row.weight)}`);
  const prompt = tokenizer.encode(row.prompt, { bos: true });
  const prefix = startsText(row.prompt);
  const completion = tokenizer.encode(row.completion, { prefixSpace: prefix });
  const weights = new Float32Array(completion.length + 1).fill(weight);
  if (row.spans && row.spans.length > 0) {
    // map each completion token to its UTF-8 byte range, and each span's character range to bytes
    const enc = new TextEncoder();
    const byteAt = (charOffset: number): number => enc.encode(row.completion.slice(0, charOffset)).length;
    const ranges: [number, number][] = [];
    let pos = prefix && completion.length > 0 ? -1 : 0; // the dummy-prefix space is not part of the text
    for (const id of completion) {
      const n = tokenizer.byteLength(id);
      ranges.push([pos, pos + n]);
      pos += n;
    }
    for (const span of row.spans) {
      if (!(Number.isInteger(span.start) && Number.isInteger(span.end) && 0 <= span.start && span.start <= span.end && span.end <= row.completion.length)) {
        throw new ConfigError(`${where}: span [${span.start}, ${span.end}) is not inside the completion (length ${row.completion.length})`);
      }
      if (!Number.isFinite(span.weight)) throw new ConfigError(`${where}: span weight must be a finite number`);
      const a = byteAt(span.start);
      const b = byteAt(span.end);
      ranges.forEach(([s, e], j) => {
        if (s < b && a < e) weights[j] = span.weight;
      });
    }
    if (completion.length > 0) weights[completion.length] = weights[completion.length - 1]!;
  }
  // Room for BOS + prompt once completion + EOS are placed; below 1 not even BOS fits.
  const room = contextLength - completion.length - 1;
  if (room < 1) return { tokens: [], lossWeights: new Float32Array(0), truncated: true, promptTokensDropped: prompt.length - 1, refused: true };
  const dropped = Math.max(0, prompt.length - room);
  const kept = dropped > 0 ? [prompt[0]!, ...prompt.slice(1 + dropped)] : prompt;
  const tokens = [...kept, ...completion, tokenizer.eos];
  const lossWeights = new Float32Array(tokens.length - 1);
  // predicting tokens[t + 1] for t + 1 ≥ kept.length is a completion (or EOS) prediction
  for (let t = kept.length - 1; t < tokens.length - 1; t++) lossWeights[t] = weights[t + 1 - kept.length]!;
  if (dropped === 0) return { tokens, lossWeights, truncated: false, promptTokensDropped: 0, refused: false };
  return { tokens, lossWeights, truncated: true, promptTokensDropped: dropped, keptPrompt: tokenizer.decode(kept.slice(1), { prefixSpace: false }), refused: false };
}

/** How the rows of a training request fit a context of `contextLength` tokens: one RowFit per row that did not fit whole. */
export function rowFits(tokenized: readonly TokenizedRow[]): RowFit[] {
  const out: RowFit[] = [];
  tokenized.forEach((t, row) => {
    if (!t.truncated) return;
    out.push({ row, refused: t.refused, promptTokensDropped: t.promptTokensDropped, ...(t.keptPrompt !== undefined ? { keptPrompt: t.keptPrompt } : {}) });
  });
  return out;
}


/** First 8 hex digits of SHA-256 over the base id, rows, hyper-parameters and seed (canonical JSON). */
export function fineTuneHash(baseId: string, request: Pick<TrainRequest, 'rows' | 'hyper' | 'seed'>): string {
  const h = createHash('sha256');
  h.update(canonicalJson({ base: baseId, rows: request.rows, hyper: request.hyper, seed: request.seed }));
  return h.digest('hex').slice(0, 8);
}
