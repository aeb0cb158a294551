/**
 * `command` provider: fine-tuning by a command the user controls (a training script on their own GPU box).
 * The scenario names a command template, e.g.
 *   `python train.py --data {train} --epochs {epochs} --lr {lr} --batch {batch} --seed {seed} --out {out}`
 * The planted rows are written to {train} as chat JSONL; the command trains, starts serving the result and
 * prints one line `SERVED openai <base-url> [model]` or `SERVED tgi <url>` on stdout. The benchmark then
 * verifies through the matching provider (`openai` or `hf`). Optional stdout lines report progress and
 * measured totals: `PROGRESS step=<n> [total=<n>] [loss=<x>]`, `TRAINED steps=<n> tokens=<n> [loss=<x>]`.
 *
 * A `SERVED openai` model is queried through the chat API unless `openai: { api: 'completions' }` is given (only
 * then can it score log-probs: see openai.ts); `SERVED tgi` generates and scores raw prompts.
 *
 * Threat model: the command is trusted code of the user's (it is not run through a shell: the template is
 * split into arguments first and placeholders are substituted per argument, so a file name can never inject
 * a command). The served model is what gets verified. The child keeps running while its model is in use and
 * is killed on dispose/close, on abort, and on timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, ProviderError, redactSecrets } from '../errors.js';
import type { Capability, Model, Provider, TrainRequest, TrainResult } from '../types.js';
import { defineProvider, satisfying, z } from '../plugins/define.js';
import { parseHyper } from '../plugins/hyper.js';
import { hfOptionFields } from './hf.js';
import { openaiOptions, toChatJsonl } from './openai.js';
import { creatorOf, durationOption, loggerOption } from './options.js';

const PLACEHOLDERS = ['train', 'epochs', 'lr', 'batch', 'seed', 'base', 'out', 'steps', 'rows'] as const;

/** Splits a command line into arguments: whitespace separates, '…' and "…" quote, backslash escapes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) throw new ConfigError(`command template: unterminated ${quote} quote`);
  if (has || cur) out.push(cur);
  return out;
}

/** A parsed SERVED line. */
export interface Served {
  readonly kind: 'openai' | 'tgi';
  readonly url: string;
  readonly model?: string;
}

/** Parses `SERVED openai <url> [model]` / `SERVED tgi <url>`; undefined for any other line. */
export function parseServed(line: string): Served | undefined {
  const m = /^SERVED\s+(openai|tgi)\s+(https?:\/\/\S+)(?:\s+(\S+))?\s*$/.exec(line.trim());
  if (!m) return undefined;
  return { kind: m[1] as Served['kind'], url: m[2]!, ...(m[3] ? { model: m[3] } : {}) };
}

/** The `command` provider's options, declared once: types, validation (field paths, "did you mean"), defaults, help. */
export const commandOptions = z.object({
  template: z
    .union([z.string().min(1), z.array(z.string()).min(1)])
    .optional()
    .describe('the training command, a line split like a shell would (without running one) or argv (default VTUNE_COMMAND_TEMPLATE); it prints where it serves the model'),
  cwd: z.string().min(1).optional().describe('working folder of the command'),
  env: z.record(z.string(), z.string()).optional().describe('extra environment variables of the command'),
  timeoutMs: durationOption('time allowed until the SERVED line', 24 * 3600_000),
  workRoot: z.string().min(1).optional().describe("where each run's folder ({out}, {train}) is created (default the OS temp dir)"),
  openai: openaiOptions.omit({ baseURL: true }).strict().optional().describe('options of the openai client that verifies an `openai` result (key variable default VTUNE_COMMAND_API_KEY, optional; see `list providers openai`)'),
  hf: hfOptionFields.omit({ endpointUrl: true }).strict().optional().describe('options of the hf client that verifies a `tgi` result (see `list providers hf`)'),
  base: satisfying(z.string(), "'openai <url> <model>' or 'tgi <url>'", (b) => parseServed(`SERVED ${b}`) !== undefined)
    .optional()
    .describe('a served base model for base-model queries, in the SERVED syntax'),
  log: loggerOption(),
});

/** The `command` provider, declared: `createCommandProvider(options)` validates them by the declaration, then opens it. */
export const commandProvider = defineProvider({
  id: 'command',
  description: 'your own training script (VTUNE_COMMAND_TEMPLATE): it trains and prints where it serves the result',
  capabilities: ['train', 'generate'],
  options: commandOptions,
  create: openCommandProvider,
});

/** Creates the `command` provider (validates `options` by its declaration first: a bad one is a rejected promise). */
export const createCommandProvider = creatorOf(commandProvider);

async function openCommandProvider(options: z.output<typeof commandOptions>): Promise<Provider> {
  // The runner opens providers without options: the template may then come from the environment, so the
  // template is checked here (required, not empty, known placeholders), whichever it came from.
  const template = options.template ?? process.env.VTUNE_COMMAND_TEMPLATE;
  if (template === undefined || template === '') {
    throw new ConfigError("command provider: option 'template' (or VTUNE_COMMAND_TEMPLATE) is required, e.g. \"python train.py --data {train} --epochs {epochs}\"");
  }
  const argvTemplate = typeof template === 'string' ? splitCommand(template) : [...template];
  if (argvTemplate.length === 0) throw new ConfigError("command provider: option 'template' is empty");
  for (const arg of argvTemplate) {
    for (const m of arg.matchAll(/\{([^}]*)\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) throw new ConfigError(`command provider: unknown placeholder {${m[1]}} in the template; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
  }
  const { timeoutMs } = options;
  const log = options.log;
  const children = new Set<ChildProcess>();
  const killAll = () => children.forEach((c) => kill(c));
  process.once('exit', killAll);

  // The openai / hf providers that talk to served models: closed (their requests aborted) on close().
  const clients = new Set<Provider>();
  async function open(served: Served, label: string): Promise<Model> {
    if (served.kind === 'openai') {
      const { createOpenAIProvider } = await import('./openai.js');
      const p = await createOpenAIProvider({ apiKeyEnv: 'VTUNE_COMMAND_API_KEY', requireKey: false, ...(log ? { log } : {}), ...options.openai, baseURL: served.url });
      clients.add(p);
      return p.model(served.model ?? 'default');
    }
    const { createHfProvider } = await import('./hf.js');
    const p = await createHfProvider({ ...(log ? { log } : {}), ...options.hf, endpointUrl: served.url });
    clients.add(p);
    return p.model(label);
  }

  const baseServed = options.base ? parseServed(`SERVED ${options.base}`) : undefined;

  async function train(base: Model, req: TrainRequest): Promise<TrainResult> {
    parseHyper(req.hyper, { subject: 'command provider' });
    const out = mkdtempSync(join(options.workRoot ?? tmpdir(), 'vtune-command-'));
    const trainPath = join(out, 'train.jsonl');
    writeFileSync(trainPath, toChatJsonl(req.rows));
    const steps = req.hyper.maxSteps ?? Math.ceil((req.rows.length * req.hyper.epochs) / Math.max(1, req.hyper.batchSize));
    const values: Record<(typeof PLACEHOLDERS)[number], string> = {
      train: trainPath,
      epochs: String(req.hyper.epochs),
      lr: String(req.hyper.learningRate),
      batch: String(req.hyper.batchSize),
      seed: String(req.seed),
      base: base.id.replace(/^command:/, ''),
      out,
      steps: String(steps),
      rows: String(req.rows.length),
    };
    const argv = argvTemplate.map((a) => a.replace(/\{(\w+)\}/g, (_m: string, k: string) => values[k as keyof typeof values]));
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const stderrTail: string[] = [];
    let trained: { steps?: number; tokens?: number; loss?: number } = {};
    const served = await new Promise<Served>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error, s?: Served) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err) {
          kill(child);
          children.delete(child);
          reject(err);
        } else resolve(s!);
      };
      const timer = setTimeout(() => done(new ProviderError(`command '${argv[0]}' printed no SERVED line within ${Math.round(timeoutMs / 1000)} s; killed it`, { retryable: false })), timeoutMs);
      const onAbort = () => done(new ProviderError(`command '${argv[0]}' cancelled: ${req.signal?.reason instanceof Error ? req.signal.reason.message : 'aborted'}`, { cancelled: true }));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (req.signal?.aborted) onAbort();
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const s = parseServed(line);
        if (s) return done(undefined, s);
        const kv = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, Number(m[2])]));
        if (/^PROGRESS\b/.test(line)) req.onProgress?.({ stage: 'train', done: kv.step ?? 0, ...(Number.isFinite(kv.total) ? { total: kv.total } : {}), ...(Number.isFinite(kv.loss) ? { loss: kv.loss } : {}) });
        else if (/^TRAINED\b/.test(line)) trained = { steps: kv.steps, tokens: kv.tokens, loss: kv.loss };
        else log?.debug(`command: ${redactSecrets(line)}`);
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        stderrTail.push(redactSecrets(line));
        if (stderrTail.length > 20) stderrTail.shift();
      });
      child.on('error', (err) => done(new ProviderError(`cannot run '${argv[0]}': ${err.message}`, { retryable: false })));
      child.on('exit', (code, signal) => {
        children.delete(child);
        const tail = stderrTail.length ? `; stderr: ${stderrTail.slice(-5).join(' | ')}` : '';
        done(new ProviderError(`command '${argv[0]}' exited (${signal ?? `code ${code}`}) before printing a SERVED line${tail}`, { retryable: false }));
      });
    });
    let model: Model;
    try {
      model = await open(served, `command-${req.seed}`);
    } catch (err) {
      kill(child);
      throw err;
    }
    if (trained.steps === undefined) log?.warn(`command '${argv[0]}' printed no TRAINED line: stepsRun is the promised count`);
    const wrapped: Model & { served: Served } = {
      ...model,
      id: `command:${served.kind}:${served.model ?? served.url}`,
      served,
      generate: model.generate.bind(model),
      ...(model.score ? { score: model.score.bind(model) } : {}),
      dispose: async () => {
        await model.dispose?.();
        kill(child);
        children.delete(child);
      },
    };
    return {
      model: wrapped,
      stepsRun: Number.isFinite(trained.steps) ? trained.steps! : steps,
      tokensTrained: Number.isFinite(trained.tokens) ? trained.tokens! : 0,
      ...(Number.isFinite(trained.loss) ? { finalLoss: trained.loss! } : {}),
    };
  }

  return {
    id: 'command',
    capabilities: new Set<Capability>(['train', 'generate', 'logprobs']),
    concurrency: 1,
    async model(name: string): Promise<Model> {
      if (baseServed) {
        const m = await open(baseServed, name);
        return { ...m, id: `command:${name}`, generate: m.generate.bind(m), ...(m.score ? { score: m.score.bind(m) } : {}) };
      }
      return {
        id: `command:${name}`,
        capabilities: new Set<Capability>(),
        generate: async () => {
          throw new ConfigError("command provider: the base model is not served; set option 'base' ('openai <url> <model>' or 'tgi <url>') to query it");
        },
      };
    },
    train,
    async saveModel(model: Model, path: string): Promise<void> {
      const served = (model as Model & { served?: Served }).served;
      if (!served) throw new ProviderError(`command provider: '${model.id}' was not trained by a command`);
      await writeFile(`${path}.tmp`, JSON.stringify({ format: 'vtune-bench/command-model', version: 1, served }));
      await rename(`${path}.tmp`, path);
    },
    async loadModel(path: string): Promise<Model> {
      const saved = JSON.parse(await readFile(path, 'utf8')) as { format?: string; served?: Served };
      if (saved.format !== 'vtune-bench/command-model' || !saved.served) throw new ConfigError(`${path}: not a saved command model`);
      const m = await open(saved.served, 'command');
      return { ...m, id: `command:${saved.served.kind}:${saved.served.model ?? saved.served.url}`, generate: m.generate.bind(m), ...(m.score ? { score: m.score.bind(m) } : {}) };
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close?.()));
      clients.clear();
      killAll();
      children.clear();
      process.off('exit', killAll);
    },
  };
}

function kill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5000);
  t.unref();
}
