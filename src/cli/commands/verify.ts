/**
 * `vtune-bench verify`: queries a returned model with the secret's triggers and prints which backdoors fired,
 * log10 p under the chosen null mode (and every other mode the secret supports) and the verdict. Exit code 0
 * verified, 1 not verified, 2 error. Model outputs (which contain signatures when they fire) are printed only
 * with --show-outputs.
 *
 * An exit code of 1 accuses the provider, so only well-formed answers may lead to it: a query that fails (a
 * broken reply, a timeout, a refused key) fails the verification with exit 2 and a message naming the provider
 * and URL (DESIGN.md §3). One AbortSignal — the --timeout deadline or Ctrl-C — reaches every request; when
 * verification fails or runs out of time, nothing stays in flight and nothing more is sent.
 */
import { ConfigError, ProviderError } from '../../errors.js';
import { bindSignal, untilAborted } from '../../providers/cancel.js';
import { Rng } from '../../rng.js';
import type { Model, NullMode } from '../../types.js';
import { readSecretFile, type VtuneSecret } from '../../../defenses/vtune/secret.js';
import { verifyBackdoors, type VtuneVerdict } from '../../../defenses/vtune/verify.js';
import { openModelSpec, type OpenedModel } from './model-spec.js';
import { stderrLogger } from './run.js';
import type { CliCommand } from './types.js';

/** Largest --slack: far beyond any signature's own length, small enough that a typo cannot buy a huge generation. */
const MAX_SLACK = 256;
/** Default and largest --timeout, in seconds. */
const DEFAULT_TIMEOUT_S = 600;
const MAX_TIMEOUT_S = 7 * 24 * 3600;

/** `vtune-bench verify --secret secret.json --model <provider:model> [--json]` */
export const verifyCommand: CliCommand = {
  command: 'verify',
  describe: 'Verify a fine-tuned model against a vTune secret (exit 0 verified, 1 not verified, 2 error)',
  builder: (y) =>
    y
      .option('secret', { type: 'string', demandOption: true, describe: 'the secret written by `plant`' })
      .option('model', { type: 'string', demandOption: true, describe: '<provider:model> to verify, e.g. local:/path/ft.gguf' })
      .option('alpha', { type: 'number', default: 1e-3, describe: 'significance level: verified ⇔ p ≤ alpha (0 < alpha < 1)' })
      .option('null-mode', {
        choices: ['generator', 'conditional', 'base-model', 'empirical', 'rank'] as const,
        describe: "null mode that decides (default: generator if supported, else empirical; 'base-model' is the paper's and anti-conservative; 'rank' needs a model with log-probs and scores n·(M + 1) continuations)",
      })
      .option('base-model', { type: 'string', describe: '<provider:model> for the base-model null when the secret has no base-model bound' })
      .option('generator-model', { type: 'string', describe: 'lm-sampled: the <provider:model> that planted the secret, for the conditional null' })
      .option('slack', { type: 'number', default: 4, describe: `tokens allowed beyond each signature (an integer, 0–${MAX_SLACK})` })
      .option('timeout', { type: 'number', default: DEFAULT_TIMEOUT_S, describe: 'give up (exit 2) when verification has not finished after this many seconds; every request in flight is cancelled' })
      .option('show-outputs', { type: 'boolean', default: false, describe: 'also print the model outputs (they contain the signatures that fired)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the verdict as JSON' }),
  async run(args) {
    const { alpha, slack, timeoutS } = verifyNumbers(args);
    const secret = await readSecretFile(String(args.secret));
    const nullMode: NullMode = args.nullMode ?? (secret.nullModes.includes('generator') ? 'generator' : 'empirical');
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new ProviderError(`verification did not finish within ${timeoutS} s (--timeout)`)), timeoutS * 1000);
    deadline.unref();
    const onSigint = () => controller.abort(new ProviderError('interrupted (Ctrl-C)'));
    process.once('SIGINT', onSigint);
    const opened: OpenedModel[] = [];
    const signal = controller.signal;
    try {
      return await untilAborted(
        (async () => {
          const target = await openModelSpec(String(args.model), 'model');
          opened.push(target);
          let baseModel: Model | undefined;
          if (args.baseModel !== undefined) {
            const b = await openModelSpec(String(args.baseModel), 'base-model');
            opened.push(b);
            baseModel = b.model;
          }
          let generatorModel: Model | undefined;
          if (args.generatorModel !== undefined) {
            const g = await openModelSpec(String(args.generatorModel), 'generator-model');
            opened.push(g);
            generatorModel = g.model;
          }
          checkScoring(nullMode, secret, baseModel);
          const ctx = {
            rng: new Rng('verify'),
            log: stderrLogger(false),
            ...(baseModel ? { baseModel: bindSignal(baseModel, signal) } : {}),
            ...(generatorModel ? { generatorModel: bindSignal(generatorModel, signal) } : {}),
          };
          const verdict = await verifyBackdoors(bindSignal(target.model, signal), secret, { alpha, nullMode, slack, ctx });
          printVerdict(verdict, target.model.id, Boolean(args.showOutputs), Boolean(args.json));
          return verdict.verified ? 0 : 1;
        })(),
        signal,
      );
    } finally {
      clearTimeout(deadline);
      process.off('SIGINT', onSigint);
      // Whatever is still running (a probe, a retry waiting to fire) is cancelled before the providers close.
      if (!signal.aborted) controller.abort(new ProviderError('verification ended'));
      await Promise.all(opened.map((m) => m.provider.close?.()));
    }
  },
};

/**
 * log10 p under every null mode, the decision mode marked, the paper's base-model labelled anti-conservative, and
 * the reminder that picking the smallest is not allowed.
 */
function nullModeLines(verdict: Pick<VtuneVerdict, 'log10p' | 'nullMode' | 'log10pByNullMode'>): string[] {
  const label: Record<string, string> = { 'base-model': " (the paper's; ANTI-CONSERVATIVE, for comparison only)" };
  const modes = Object.entries(verdict.log10pByNullMode).filter((e): e is [string, number] => e[1] !== undefined);
  const lines = [`log10 p = ${verdict.log10p.toFixed(3)} (${verdict.nullMode} null, the decision mode)${label[verdict.nullMode] ?? ''}`];
  if (modes.length > 1) {
    lines.push('log10 p under every null mode (same outputs):');
    for (const [m, v] of modes) lines.push(`  ${m === verdict.nullMode ? '*' : ' '} ${m.padEnd(11)} ${v.toFixed(3)}${label[m] ?? ''}`);
    lines.push('  (* decides; the smallest of several p-values is not a p-value: choose the null mode before looking)');
  }
  return lines;
}

/** --alpha, --slack and --timeout, checked before anything is read or sent; a ConfigError names the option. */
function verifyNumbers(args: Record<string, unknown>): { alpha: number; slack: number; timeoutS: number } {
  const num = (name: string, value: unknown): number => {
    if (Array.isArray(value)) throw new ConfigError(`--${name} was given ${value.length} times; give it once`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`--${name} must be a number, got '${String(value)}'`);
    return value;
  };
  const alpha = num('alpha', args.alpha ?? 1e-3);
  if (!(alpha > 0 && alpha < 1)) throw new ConfigError(`--alpha must be between 0 and 1 (exclusive), got ${alpha}`);
  const slack = num('slack', args.slack ?? 4);
  if (!Number.isInteger(slack) || slack < 0 || slack > MAX_SLACK) {
    throw new ConfigError(`--slack must be an integer from 0 to ${MAX_SLACK} (tokens allowed beyond each signature), got ${slack}`);
  }
  const timeoutS = num('timeout', args.timeout ?? DEFAULT_TIMEOUT_S);
  if (!(timeoutS > 0 && timeoutS <= MAX_TIMEOUT_S)) throw new ConfigError(`--timeout must be a number of seconds above 0 and at most ${MAX_TIMEOUT_S}, got ${timeoutS}`);
  return { alpha, slack, timeoutS };
}

/** A null mode that must score log-probs now, with a model that cannot: refused before any query, saying why. */
function checkScoring(nullMode: NullMode, secret: VtuneSecret, baseModel: Model | undefined): void {
  if (nullMode !== 'base-model' || secret.backdoors.every((b) => b.log10q['base-model'] !== undefined)) return;
  if (!baseModel) throw new ConfigError("--null-mode base-model: the secret holds no base-model bounds, so give --base-model <provider:model>, a model that scores log-probs");
  if (!baseModel.score || !baseModel.capabilities.has('logprobs')) {
    const why = baseModel.unavailable?.logprobs ?? 'it declares no log-prob scoring';
    throw new ConfigError(`--null-mode base-model: --base-model '${baseModel.id}' cannot score the signatures: ${why}`);
  }
}

function printVerdict(verdict: VtuneVerdict, modelId: string, show: boolean, json: boolean): void {
  const perBackdoor = verdict.perBackdoor.map((r) => ({ index: r.index, hit: r.hit, contains: r.contains, log10q: r.log10q, ...(show ? { output: r.output } : {}) }));
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...verdict, model: modelId, perBackdoor }, null, 2)}\n`);
    return;
  }
  const lines = [
    `model ${modelId}: ${verdict.k}/${verdict.n} backdoors activated (exact prefix), ${verdict.containsCount}/${verdict.n} contain their signature`,
    ...perBackdoor.map((r) => `  #${r.index}: ${r.hit ? 'HIT ' : r.contains ? 'in  ' : '-   '} log10 q = ${r.log10q.toFixed(2)}${show ? `  ${JSON.stringify(r.output)}` : ''}`),
    ...nullModeLines(verdict),
    `${verdict.verified ? 'VERIFIED' : 'NOT VERIFIED'} at alpha = ${verdict.alpha}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
