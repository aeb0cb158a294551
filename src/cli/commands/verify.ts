/**
 * `vtune-bench verify`: queries a returned model with the secret's triggers and prints which backdoors fired,
 * log10 p under the chosen null mode (and every other mode the secret supports) and the verdict. Exit code 0
 * verified, 1 not verified, 2 error. Model outputs (which contain signatures when they fire) are printed only
 * with --show-outputs.
 */
import { Rng } from '../../rng.js';
import type { Model, NullMode } from '../../types.js';
import { readSecretFile } from '../../../defenses/vtune/secret.js';
import { verifyBackdoors, type VtuneVerdict } from '../../../defenses/vtune/verify.js';
import { openModelSpec, type OpenedModel } from './model-spec.js';
import { stderrLogger } from './run.js';
import type { CliCommand } from './types.js';

/** `vtune-bench verify --secret secret.json --model <provider:model> [--json]` */
export const verifyCommand: CliCommand = {
  command: 'verify',
  describe: 'Verify a fine-tuned model against a vTune secret (exit 0 verified, 1 not verified, 2 error)',
  builder: (y) =>
    y
      .option('secret', { type: 'string', demandOption: true, describe: 'the secret written by `plant`' })
      .option('model', { type: 'string', demandOption: true, describe: '<provider:model> to verify, e.g. local:/path/ft.gguf' })
      .option('alpha', { type: 'number', default: 1e-3, describe: 'significance level: verified ⇔ p ≤ alpha' })
      .option('null-mode', {
        choices: ['generator', 'conditional', 'base-model', 'empirical'] as const,
        describe: "null mode that decides (default: generator if supported, else empirical; 'base-model' is the paper's and anti-conservative)",
      })
      .option('base-model', { type: 'string', describe: '<provider:model> for the base-model null when the secret has no base-model bound' })
      .option('generator-model', { type: 'string', describe: 'lm-sampled: the <provider:model> that planted the secret, for the conditional null' })
      .option('slack', { type: 'number', default: 4, describe: 'tokens allowed beyond each signature' })
      .option('show-outputs', { type: 'boolean', default: false, describe: 'also print the model outputs (they contain the signatures that fired)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the verdict as JSON' }),
  async run(args) {
    const secret = await readSecretFile(String(args.secret));
    const nullMode: NullMode = args.nullMode ?? (secret.nullModes.includes('generator') ? 'generator' : 'empirical');
    const opened: OpenedModel[] = [];
    try {
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
      const ctx = { rng: new Rng('verify'), log: stderrLogger(false), baseModel, generatorModel };
      const verdict = await verifyBackdoors(target.model, secret, { alpha: Number(args.alpha), nullMode, slack: Number(args.slack), ctx });
      const show = Boolean(args.showOutputs);
      const perBackdoor = verdict.perBackdoor.map((r) => ({ index: r.index, hit: r.hit, contains: r.contains, log10q: r.log10q, ...(show ? { output: r.output } : {}) }));
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ ...verdict, model: target.model.id, perBackdoor }, null, 2)}\n`);
      } else {
        const lines = [
          `model ${target.model.id}: ${verdict.k}/${verdict.n} backdoors activated (exact prefix), ${verdict.containsCount}/${verdict.n} contain their signature`,
          ...perBackdoor.map((r) => `  #${r.index}: ${r.hit ? 'HIT ' : r.contains ? 'in  ' : '-   '} log10 q = ${r.log10q.toFixed(2)}${show ? `  ${JSON.stringify(r.output)}` : ''}`),
          ...nullModeLines(verdict),
          `${verdict.verified ? 'VERIFIED' : 'NOT VERIFIED'} at alpha = ${verdict.alpha}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return verdict.verified ? 0 : 1;
    } finally {
      await Promise.all(opened.map((m) => m.provider.close?.()));
    }
  },
};

/**
 * log10 p under every null mode, the decision mode marked, the paper's base-model labelled anti-conservative, and
 * the reminder that picking the smallest is not allowed.
 */
export function nullModeLines(verdict: Pick<VtuneVerdict, 'log10p' | 'nullMode' | 'log10pByNullMode'>): string[] {
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
