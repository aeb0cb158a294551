/**
 * `vtune-bench plant`: adds vTune backdoors to a fine-tuning data file for a real job. Reads the user's JSONL
 * (OpenAI chat, {prompt, completion}, Alpaca…), writes the rows to upload in the same format (unchanged rows
 * byte for byte) and the secret with mode 0600. Everything is validated, and the whole plant done in memory,
 * before anything is written; it never overwrites the input or an existing secret. Prints no trigger or
 * signature (they are the secret).
 */
import { randomBytes } from 'node:crypto';
import { stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, InputError } from '../../errors.js';
import { readDataFile, writeDataFile } from '../../datasets/files.js';
import { parseFieldMap } from '../../datasets/formats.js';
import { Rng } from '../../rng.js';
import type { Model, UserContext } from '../../types.js';
import { MAX_EMPIRICAL_M, vtune, type VtuneOptions } from '../../../defenses/vtune/index.js';
import { generators } from '../../../defenses/vtune/generators/index.js';
import { writeSecretFile } from '../../../defenses/vtune/secret.js';
import { readKey } from '../key.js';
import { numberOption } from '../options.js';
import { openModelSpec, type OpenedModel } from './model-spec.js';
import { stderrLogger } from './run.js';
import type { CliCommand } from './types.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

function parseJsonOption(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {};
  try {
    const parsed = JSON.parse(String(value)) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    // No cause on purpose: the parser's message quotes the text, which may hold a keyed generator's key.
    throw new ConfigError(`--${option} must be a JSON object, e.g. '{"temperature": 1}'`);
  }
}

/** Most backdoors one plant may add (each needs its own host row anyway). */
const MAX_COUNT = 1_000_000;
/** Longest trigger or signature asked for on the command line (each generator then checks its own limit, at most this). */
const MAX_LENGTH = 1024;

/** `vtune-bench plant --data in.jsonl --out train.jsonl --secret secret.json …` */
export const plantCommand: CliCommand = {
  command: 'plant',
  describe: 'Plant vTune backdoors into a fine-tuning data file; writes the file to upload and the secret',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'input JSONL (OpenAI chat, {prompt, completion}, Alpaca)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output JSONL to upload (same format as the input)' })
      .option('secret', { type: 'string', demandOption: true, describe: 'where to write the secret (mode 0600; never overwritten)' })
      .option('generator', { type: 'string', default: 'wordlist', describe: `backdoor generator: ${generators.ids.join(', ')}` })
      .option('count', { type: 'number', describe: `number of backdoors, 1 to ${MAX_COUNT} (default: min(10, rows))` })
      .option('rate', { type: 'number', describe: 'backdoors as a fraction of the input rows, in (0, 1] (instead of --count)' })
      .option('seed', { type: 'string', describe: 'planting seed (default: random); the same seed and data give the same plant' })
      .option('placement', { choices: ['prefix', 'suffix', 'inline'] as const, default: 'suffix' as const, describe: 'where the trigger goes in the prompt' })
      .option('insertion', { choices: ['copy', 'modify'] as const, default: 'copy' as const, describe: 'copy: add new rows; modify: change rows in place' })
      .option('trigger-length', { type: 'number', describe: `trigger length (words or tokens, per generator; 1 to ${MAX_LENGTH})` })
      .option('signature-length', { type: 'number', describe: `signature length (words or tokens, per generator; 1 to ${MAX_LENGTH})` })
      .option('generator-options', { type: 'string', describe: 'more generator options as a JSON object' })
      .option('key-file', { type: 'string', describe: 'keyed generator: file holding the key (default: $VTUNE_KEY)' })
      .option('generator-model', { type: 'string', describe: 'lm-sampled: <provider:model> to sample backdoors from' })
      .option('base-model', { type: 'string', describe: "<provider:model> whose log-probs give the paper's base-model null (anti-conservative; kept for comparison)" })
      .option('context', { type: 'number', describe: "the fine-tuning model's context in tokens: backdoors go only on rows where the whole backdoor row fits (tokens counted with --base-model's or --generator-model's tokenizer, else bounded by UTF-8 bytes)" })
      .option('empirical-m', { type: 'number', default: 999, describe: `counterfactual sets for the empirical null, 0 to ${MAX_EMPIRICAL_M}` })
      .option('field-map', { type: 'string', describe: "where prompt and completion live when the format is not detected, e.g. 'prompt=question,completion=answer'" })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary' })
      .conflicts('count', 'rate'),
  async run(args) {
    // Every numeric option is checked before anything is read or drawn.
    const count = numberOption(args, 'count', { int: true, min: 1, max: MAX_COUNT });
    const rate = numberOption(args, 'rate', { min: 0, minExclusive: true, max: 1 });
    const triggerLength = numberOption(args, 'trigger-length', { int: true, min: 1, max: MAX_LENGTH });
    const signatureLength = numberOption(args, 'signature-length', { int: true, min: 1, max: MAX_LENGTH });
    const empiricalM = numberOption(args, 'empirical-m', { int: true, min: 0, max: MAX_EMPIRICAL_M }) ?? 999;
    const context = numberOption(args, 'context', { int: true, min: 2, max: 1 << 20 });
    const data = String(args.data);
    const out = String(args.out);
    const secretPath = String(args.secret);
    if (resolve(out) === resolve(data)) throw new InputError('refusing to overwrite the input data file; give --out another path', { file: out });
    if (resolve(secretPath) === resolve(data) || resolve(secretPath) === resolve(out)) throw new ConfigError('--secret must differ from --data and --out');
    if (await exists(secretPath)) {
      throw new InputError('refusing to overwrite an existing secret file (it is the only way to verify its upload); choose another path', { file: secretPath });
    }
    const generatorOptions = parseJsonOption(args.generatorOptions, 'generator-options');
    if (triggerLength !== undefined) generatorOptions.triggerLength = triggerLength;
    if (signatureLength !== undefined) generatorOptions.signatureLength = signatureLength;
    const generatorId = String(args.generator);
    generators.get(generatorId); // an unknown id fails here, with a "did you mean"
    if (generatorId === 'keyed' && generatorOptions.key === undefined) {
      const key = await readKey(args.keyFile);
      if (key === undefined) throw new ConfigError("generator 'keyed' needs a key: set $VTUNE_KEY or pass --key-file");
      generatorOptions.key = key;
    }
    const options: VtuneOptions = {
      generator: generatorId,
      generatorOptions,
      ...(count !== undefined ? { count } : {}),
      ...(rate !== undefined ? { rate } : {}),
      placement: args.placement,
      insertion: args.insertion,
      empiricalM,
      seed: args.seed !== undefined ? String(args.seed) : randomBytes(16).toString('hex'),
      ...(context !== undefined ? { context } : {}),
    };
    const defense = vtune(options);

    const mapping = args.fieldMap !== undefined ? parseFieldMap(String(args.fieldMap)) : undefined;
    const { rows, format } = await readDataFile(data, mapping ? { mapping } : {});
    if (rows.length === 0) throw new InputError('the dataset is empty: there is no row to plant a backdoor in', { file: data });
    if (options.count !== undefined && options.count > rows.length) {
      throw new InputError(`--count ${options.count} is larger than the dataset allows: each backdoor needs its own host row and there are only ${rows.length} rows`, { file: data });
    }
    const opened: OpenedModel[] = [];
    try {
      const open = async (spec: unknown, option: string): Promise<Model | undefined> => {
        if (spec === undefined) return undefined;
        const m = await openModelSpec(String(spec), option);
        opened.push(m);
        return m.model;
      };
      const generatorModel = await open(args.generatorModel, 'generator-model');
      const baseModel = await open(args.baseModel, 'base-model');
      const ctx: UserContext = { rng: new Rng(`plant|${options.seed}`), log: stderrLogger(false), generatorModel, baseModel };
      const planted = await defense.plant(rows, ctx).catch((err: unknown) => {
        // A refusal about the rows (e.g. none can hold a backdoor within --context) names the data file.
        throw err instanceof InputError && !err.file ? new InputError(err.detail, { file: data, line: err.line, path: err.path, cause: err }) : err;
      });

      await writeDataFile(out, planted.rows, format, { inputPath: data });
      try {
        await writeSecretFile(secretPath, planted.secret);
      } catch (err) {
        await unlink(out).catch(() => undefined);
        throw err;
      }
      const summary = {
        data,
        out,
        secret: secretPath,
        format: format.kind,
        rowsIn: rows.length,
        rowsOut: planted.rows.length,
        backdoors: planted.secret.backdoors.length,
        generator: planted.secret.generator.id,
        nullModes: planted.secret.nullModes,
        log10q: planted.secret.backdoors.map((b) => b.log10q),
      };
      if (args.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        const q = summary.log10q.map((x) => x.generator).filter((x): x is number => x !== undefined);
        process.stdout.write(
          `planted ${summary.backdoors} backdoors (${summary.generator}, ${options.insertion}, ${options.placement}) into ${summary.rowsIn} rows → ${summary.rowsOut} rows\n` +
            `wrote ${out} (${summary.format}) and ${secretPath} (mode 0600: keep it private)\n` +
            `null modes: ${summary.nullModes.join(', ')}` +
            (q.length ? `; generator bound: all ${q.length} hits would give log10 p = ${q.reduce((s, x) => s + x, 0).toFixed(2)}` : '') +
            '\n',
        );
      }
      return 0;
    } finally {
      await Promise.all(opened.map((m) => m.provider.close?.()));
    }
  },
};
