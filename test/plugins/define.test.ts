import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { EVEN_IF_INVALID, checkNested, defineAttack, defineScorer, isDefinition, problemsOf, z, type OptionsInput } from '../../src/plugins/define.js';
import { checkValue, describeJson } from '../../src/plugins/options.js';
import { registryOf } from '../../src/registry.js';

const scorer = defineScorer({
  id: 'toy-scorer',
  description: 'a toy detector',
  access: ['data'],
  yieldsSpans: false,
  options: z.object({
    k: z.int().min(1).default(10).describe('neighbours'),
    flag: z.discriminatedUnion('kind', [z.object({ kind: z.literal('top-fraction'), q: z.number().gt(0).lte(1) }), z.object({ kind: z.literal('threshold'), t: z.number() })]).optional(),
  }),
  create: (o) => ({ k: o.k }),
});

const attack = defineAttack({
  id: 'toy-attack',
  description: 'a toy attack',
  citation: 'nobody, 2026',
  goal: 'pass',
  access: ['data'],
  options: z
    .object({
      fraction: z.number().gt(0).lte(1).default(0.5).describe('fraction of rows trained'),
      mode: z.enum(['fast', 'slow', 'careful']).default('fast'),
      scorerOptions: z.record(z.string(), z.unknown()).optional(),
    })
    .superRefine((o, ctx) => {
      if (o.scorerOptions !== undefined) checkNested(ctx, scorer, o.scorerOptions, ['scorerOptions']);
    }, EVEN_IF_INVALID),
  create: (o) => ({ id: 'toy-attack', fraction: o.fraction, mode: o.mode }),
});

describe('define* plugins', () => {
  it('one declaration: a factory with defaults applied, and its metadata', () => {
    expect(isDefinition(attack)).toBe(true);
    expect(attack()).toEqual({ id: 'toy-attack', fraction: 0.5, mode: 'fast' });
    expect(attack({ fraction: 0.25, mode: 'slow' })).toEqual({ id: 'toy-attack', fraction: 0.25, mode: 'slow' });
    expect(attack.kind).toBe('attack');
    expect(attack.meta).toEqual({ goal: 'pass', access: ['data'] });
    expect(attack.citation).toBe('nobody, 2026');
    expect(attack.source).toMatch(/define\.test\.ts$/);
    // The input type: what a scenario may write (defaults optional), checked by tsc.
    const typed: OptionsInput<typeof attack> = { fraction: 0.1 };
    // @ts-expect-error — 'mode' takes one of three strings
    const wrong: OptionsInput<typeof attack> = { mode: 'fastest' };
    expect([typed, wrong]).toHaveLength(2);
  });

  it('bad options: the field path as data and the words of the message', () => {
    const r = attack.check({ fraction: 1.5, mode: 'slwo', fracton: 1, scorerOptions: { k: 0, flag: { kind: 'top-fraction', q: 2 } } });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: ['fraction'], message: 'expected a number in (0, 1], got 1.5' },
        { path: ['mode'], message: "expected 'fast', 'slow' or 'careful', got \"slwo\". Did you mean 'slow'?" },
        { path: ['fracton'], message: "unknown option 'fracton'. Did you mean 'fraction'? Available: fraction, mode, scorerOptions" },
        { path: ['scorerOptions', 'k'], message: 'expected an integer ≥ 1, got 0' },
        { path: ['scorerOptions', 'flag', 'q'], message: 'expected a number in (0, 1], got 2' },
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('the factory throws a ConfigError naming the option, with the problems as data', () => {
    let caught: unknown;
    try {
      attack({ fraction: 0 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe("attack 'toy-attack': fraction: expected a number in (0, 1], got 0");
    expect(problemsOf(caught)).toEqual([{ path: ['fraction'], message: 'expected a number in (0, 1], got 0' }]);
    expect((caught as ConfigError).subject).toBe("attack 'toy-attack'");
  });

  it('an unknown discriminator gets the allowed kinds and a did-you-mean', () => {
    const r = scorer.check({ flag: { kind: 'treshold', t: 1 } });
    expect(r.ok ? [] : r.problems).toEqual([{ path: ['flag', 'kind'], message: "expected 'top-fraction' or 'threshold', got \"treshold\". Did you mean 'threshold'?" }]);
  });

  it('help and JSON Schema come from the same declaration', () => {
    expect(attack.help()).toEqual([
      { name: 'fraction', expected: 'a number in (0, 1]', required: false, default: 0.5, description: 'fraction of rows trained' },
      { name: 'mode', expected: "'fast', 'slow' or 'careful'", required: false, default: 'fast' },
      { name: 'scorerOptions', expected: 'an object', required: false },
    ]);
    expect(attack.jsonSchema()).toMatchObject({ type: 'object', additionalProperties: false, properties: { fraction: { default: 0.5, exclusiveMinimum: 0, maximum: 1 } } });
  });

  it('a registry built from definitions; the same id twice is an error naming both sources', () => {
    const reg = registryOf('attack', [attack]);
    expect(reg.get('toy-attack')).toBe(attack);
    expect(() => reg.get('toy-atack')).toThrow("unknown attack 'toy-atack'. Did you mean 'toy-attack'?");
    const twin = defineAttack({ id: 'toy-attack', description: 'another', goal: 'evade', access: ['data'], create: () => ({}) });
    expect(() => reg.register(twin.id, twin as never, 'examples/plugins/twin.ts')).toThrow(
      /attack 'toy-attack' is registered twice: by .*define\.test\.ts and by examples\/plugins\/twin\.ts/,
    );
    expect(() => registryOf('attack', [attack, twin])).toThrow(ConfigError);
  });

  it('rejects a declaration without a kebab-case id or a description', () => {
    expect(() => defineAttack({ id: 'Bad Id', description: 'x', goal: 'pass', access: ['data'], create: () => ({}) })).toThrow(/kebab-case/);
    expect(() => defineAttack({ id: 'ok', description: ' ', goal: 'pass', access: ['data'], create: () => ({}) })).toThrow(/description is required/);
  });

  it('words for common schemas', () => {
    expect(describeJson({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })).toBe('an integer ≥ 0');
    expect(describeJson({ type: 'boolean' })).toBe('true or false');
    expect(describeJson({ type: 'string', minLength: 1 })).toBe('a non-empty string');
    const r = checkValue(z.strictObject({ a: z.string().min(1) }), { a: '' });
    expect(r.ok ? [] : r.problems).toEqual([{ path: ['a'], message: 'expected a non-empty string, got ""' }]);
  });
});
