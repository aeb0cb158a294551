/**
 * `defineScenario` type-checks attack and defense ids and their options (issue 16): a .ts scenario with a
 * misspelt attack or defense id, or a misspelt or wrongly typed option, fails `npm run typecheck`. Proven with the TypeScript compiler on in-memory scenario
 * files placed in scenarios/ (so their imports resolve as a real scenario's do), with the project's compiler
 * options: the good one compiles clean, each bad one gets the diagnostic naming what is wrong. The same
 * scenarios as JSON fail at load with the field path as data, before any cell runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { loadScenario } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';

const scenario = (attacks: string, hyper = '{ epochs: 1, learningRate: 1e-3, batchSize: 8 }', defenses = `['vtune']`) => `import { defineScenario } from '../src/runner/scenario.js';
export default defineScenario({
  name: 'typed',
  seeds: 1,
  datasets: ['qa'],
  models: ['test-memorizer:base'],
  defenses: ${defenses},
  attacks: ${attacks},
  hyper: ${hyper},
});
`;

const FIXTURES: Record<string, string> = {
  good: scenario(`['honest', { id: 'random-subset', options: { fraction: 0.5 } }, { id: 'detect-then-filter', options: { scorer: 'near-duplicate', policy: 'strip-spans' } }]`),
  misspeltId: scenario(`['honest', 'random-subsets']`),
  misspeltObjectId: scenario(`[{ id: 'random-subsets', options: { fraction: 0.5 } }]`),
  wrongType: scenario(`[{ id: 'random-subset', options: { fraction: '0.5' } }]`),
  unknownOption: scenario(`[{ id: 'random-subset', options: { fracton: 0.5 } }]`),
  wrongPolicy: scenario(`[{ id: 'detect-then-filter', options: { scorer: 'near-duplicate', policy: 'keep-only-flagged' } }]`),
  wrongHyper: scenario(`['honest']`, `{ epochs: '1', learningRate: 1e-3, batchSize: 8 }`),
  // Defense entries are typed the same way: the id, and that defense's options (an entry without an id is vtune).
  goodDefenses: scenario(
    `['honest']`,
    undefined,
    `['vtune', 'cue-reply', { id: 'data-watermark', options: { rate: 0.2, placement: 'inside' } }, { id: 'utility-gain', label: 'ug', options: { metric: 'loss' } }, { label: 'v2', options: { generator: 'random-tokens', count: 8 } }]`,
  ),
  misspeltDefenseId: scenario(`['honest']`, undefined, `['vtune', 'data-watermarks']`),
  misspeltDefenseOption: scenario(`['honest']`, undefined, `[{ id: 'data-watermark', options: { rat: 0.2 } }]`),
  wrongDefenseType: scenario(`['honest']`, undefined, `[{ id: 'cue-reply', options: { cues: '4' } }]`),
  wrongDefenseEnum: scenario(`['honest']`, undefined, `[{ id: 'utility-gain', options: { metric: 'bleu' } }]`),
  misspeltVtuneOption: scenario(`['honest']`, undefined, `[{ label: 'v', options: { cont: 8 } }]`),
};

/** Compiles each fixture as scenarios/<name>.ts (in memory) with the project's options; returns its error diagnostics. */
function diagnostics(): Record<string, string[]> {
  const config = ts.readConfigFile(join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
  const files = new Map(Object.entries(FIXTURES).map(([name, text]) => [join(repoRoot, 'scenarios', `__typed_${name}.ts`), text]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    files.has(name) ? ts.createSourceFile(name, files.get(name)!, lang) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true }, host);
  const out: Record<string, string[]> = {};
  for (const [path] of files) {
    const name = path.slice(path.lastIndexOf('__typed_') + 8, -3);
    out[name] = ts.getPreEmitDiagnostics(program, program.getSourceFile(path)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  return out;
}

describe('defineScenario types attack and defense ids and options at compile time', () => {
  const d = diagnostics();

  it('a scenario with known ids and well-typed options compiles clean', () => {
    expect(d.good).toEqual([]);
    expect(d.goodDefenses).toEqual([]);
  });

  it('a misspelt attack id is a compile error (bare and in an entry)', () => {
    for (const bad of ['misspeltId', 'misspeltObjectId', 'wrongType', 'unknownOption', 'wrongPolicy', 'wrongHyper']) expect(d[bad], bad).toHaveLength(1);
    expect(d.misspeltId!.join('\n')).toMatch(/"random-subsets".*Did you mean '"random-subset"'/);
    expect(d.misspeltObjectId!.join('\n')).toMatch(/"random-subsets"/);
  });

  it('a wrongly typed, an unknown option and a policy of the wrong goal are compile errors', () => {
    expect(d.wrongType!.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'/);
    expect(d.unknownOption!.join('\n')).toMatch(/'fracton' does not exist/);
    expect(d.wrongPolicy!.join('\n')).toMatch(/"keep-only-flagged"/);
    expect(d.wrongHyper!.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'/);
  });

  it('defense entries too: a misspelt defense id or option, a wrongly typed option and a bad enum value are compile errors', () => {
    for (const bad of ['misspeltDefenseId', 'misspeltDefenseOption', 'wrongDefenseType', 'wrongDefenseEnum', 'misspeltVtuneOption']) expect(d[bad], bad).toHaveLength(1);
    expect(d.misspeltDefenseId!.join('\n')).toMatch(/"data-watermarks".*Did you mean '"data-watermark"'/);
    expect(d.misspeltDefenseOption!.join('\n')).toMatch(/'rat' does not exist.*Did you mean to write 'rate'/s);
    expect(d.wrongDefenseType!.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'/);
    expect(d.wrongDefenseEnum!.join('\n')).toMatch(/"bleu"/);
    expect(d.misspeltVtuneOption!.join('\n')).toMatch(/'cont' does not exist.*Did you mean to write 'count'/s);
  });
}, 120_000);

describe('the same scenarios as JSON fail at load with the field path, before any cell runs', () => {
  const write = (name: string, attacks: unknown[], hyper: unknown = { epochs: 1, learningRate: 1e-3, batchSize: 8 }, defenses: unknown[] = ['vtune']): string => {
    const dir = mkdtempSync(join(tmpdir(), 'vtune-typed-'));
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, seeds: 1, datasets: ['qa'], models: ['test-memorizer:base'], defenses, attacks, hyper }));
    return file;
  };
  const loadError = async (file: string): Promise<ConfigError> => {
    const err = await loadScenario(file, projectCatalog).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  };

  it('misspelt id, wrong type, unknown option, wrong policy and epochs 1.5: every problem, its path as data', async () => {
    const err = await loadError(
      write(
        'typed',
        [
          'random-subsets',
          { id: 'random-subset', options: { fraction: '0.5' } },
          { id: 'random-subset', label: 'b', options: { fracton: 0.5 } },
          { id: 'detect-then-filter', options: { scorer: 'near-duplicat', scorerOptions: { shingle: 0 }, policy: 'keep-only-flagged' } },
        ],
        { epochs: 1.5, learningRate: 1e-3, batchSize: 8 },
      ),
    );
    expect(err.problems).toEqual([
      { path: ['attacks', 0], message: "unknown attack 'random-subsets'. Did you mean 'random-subset'? Available: " + projectCatalog.attacks.ids.join(', ') },
      { path: ['attacks', 1, 'options', 'fraction'], message: 'expected a number in (0, 1], got "0.5"' },
      { path: ['attacks', 2, 'options', 'fracton'], message: "unknown option 'fracton'. Did you mean 'fraction'? Available: fraction" },
      {
        path: ['attacks', 3, 'options', 'policy'],
        message: "expected 'drop-flagged' or 'strip-spans' (keep-only-flagged and keep-flagged-plus-fraction exist, but their goal does not fit this attack's ('evade')), got \"keep-only-flagged\"",
      },
      { path: ['attacks', 3, 'options', 'scorer'], message: expect.stringContaining("unknown scorer 'near-duplicat'. Did you mean 'near-duplicate'?") },
      { path: ['hyper', 'epochs'], message: 'expected an integer ≥ 1, got 1.5' },
    ]);
    expect(err.message).toContain('typed.json: attacks[2].options.fracton: ');
    expect(err.message).toContain('typed.json: hyper.epochs: expected an integer ≥ 1, got 1.5');
  });

  it('the defense mistakes: misspelt id, misspelt option, wrong type, bad enum value, misspelt vtune option', async () => {
    const err = await loadError(
      write('typed', ['honest'], undefined, [
        'data-watermarks',
        { id: 'data-watermark', options: { rat: 0.2 } },
        { id: 'cue-reply', options: { cues: '4' } },
        { id: 'utility-gain', options: { metric: 'bleu' } },
        { label: 'v', options: { cont: 8 } },
      ]),
    );
    expect(err.problems).toEqual([
      { path: ['defenses', 0, 'id'], message: "unknown defense 'data-watermarks'. Did you mean 'data-watermark'? Available: " + projectCatalog.defenses!.ids.join(', ') },
      { path: ['defenses', 1, 'options', 'rat'], message: "unknown option 'rat'. Did you mean 'rate'? Available: rate, length, alphabet, placement, nulls, seed, alpha" },
      { path: ['defenses', 2, 'options', 'cues'], message: 'expected an integer in [1, 10000], got "4"' },
      { path: ['defenses', 3, 'options', 'metric'], message: `expected 'loss', 'generation' or 'auto', got "bleu"` },
      { path: ['defenses', 4, 'options', 'cont'], message: expect.stringContaining("unknown option 'cont'. Did you mean 'count'?") },
    ]);
  });

  it('a bad scorer option is reported at its path under scorerOptions', async () => {
    const err = await loadError(write('typed', [{ id: 'lookup-wrapper', options: { scorer: 'near-duplicate', scorerOptions: { shingle: 0, bands: 7 } } }]));
    expect(err.problems).toEqual([
      { path: ['attacks', 0, 'options', 'scorerOptions', 'shingle'], message: 'expected an integer ≥ 1, got 0' },
      { path: ['attacks', 0, 'options', 'scorerOptions', 'bands'], message: "must divide 'permutations' (120), got 7" },
    ]);
  });

  it('a scorer without spans for a wrapper that needs them is refused at load', async () => {
    const err = await loadError(write('typed', [{ id: 'lookup-wrapper', options: { scorer: 'perplexity', scorerOptions: { mode: 'row' } } }]));
    expect(err.problems).toEqual([{ path: ['attacks', 0, 'options', 'scorer'], message: expect.stringContaining("scorer 'perplexity' yields no spans") }]);
  });
});
