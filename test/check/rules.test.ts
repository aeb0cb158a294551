/**
 * The contract rules of src/check can fail: each rule is run on a plugin that breaks exactly that promise
 * (written here, deliberately wrong) and must name it; well-behaved built-ins pass. The cells run on the real
 * vtune defense × qa × the test-memorizer provider (a fast deterministic TEST DOUBLE).
 */
import { describe, expect, it } from 'vitest';
import type { AnyAttack, AttackFactory, BenchAttack } from '../../attacks/compose.js';
import { attacks } from '../../attacks/index.js';
import type { RowScorerFactory } from '../../attacks/scorers/types.js';
import type { BackdoorGenerator, GeneratorFactory } from '../../defenses/vtune/generators/types.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { checkAttack, checkGenerator, checkPlugin, checkScorer, barrierViolations, describeFailures, standardGeneratorEnv, standardScorerEnv, type RuleResult } from '../../src/check/index.js';
import { ConfigError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import type { TrainingPlan } from '../../src/types.js';

const statusOf = (results: readonly RuleResult[]) => Object.fromEntries(results.map((r) => [r.rule, r.status]));
const detailOf = (results: readonly RuleResult[], rule: string) => results.find((r) => r.rule === rule)?.detail ?? '';

/** An attack factory that validates its (no) options, built around the given hooks. */
function attackOf(id: string, extra: Partial<BenchAttack>): AttackFactory {
  return (options = {}) => {
    for (const k of Object.keys(options)) throw new ConfigError(`attack '${id}': unknown option '${k}'`);
    return { id, goal: 'pass', access: ['data'], oracle: false, trains: true, ...extra } as AnyAttack;
  };
}

describe('attack rules', () => {
  it('pass on built-ins (honest, random-subset, the oracle)', async () => {
    for (const [id, options] of [['honest', {}], ['random-subset', { fraction: 0.5 }], ['oracle-keep-only-flagged', {}]] as const) {
      const r = await checkAttack(id, attacks.get(id) as AttackFactory, { options });
      expect(describeFailures(r), id).toEqual([]);
      expect(statusOf(r)).toEqual({ declares: 'pass', purity: 'pass', seeding: 'pass', barrier: 'pass', trace: 'pass' });
    }
  });

  it('purity fails on a data hook that writes to its plan, naming the hook', async () => {
    const impure = attackOf('check-impure', {
      async onData(plan: TrainingPlan) {
        (plan.rows as { prompt: string; completion: string }[]).pop();
        return plan;
      },
    });
    const r = await checkAttack('check-impure', impure);
    expect(statusOf(r).purity).toBe('fail');
    expect(detailOf(r, 'purity')).toMatch(/onData wrote to its frozen input plan/);
  });

  it('seeding fails on an attack that draws from Math.random', async () => {
    const r = await checkAttack('check-random', attackOf('check-random', { async onData(plan: TrainingPlan) { return { ...plan, rows: plan.rows.filter(() => Math.random() < 0.5) }; } }));
    expect(statusOf(r).seeding).toBe('fail');
    expect(detailOf(r, 'seeding')).toMatch(/Math\.random/);
  });

  it('trace fails when an attack that says it never trains reaches the trainer', async () => {
    const r = await checkAttack('check-liar', attackOf('check-liar', { trains: false }));
    expect(statusOf(r).trace).toBe('fail');
    expect(detailOf(r, 'trace')).toMatch(/trains: false, but \d+ rows reached the trainer/);
  });

  it('declares fails on a factory that accepts unknown options and a wrong id', async () => {
    const lax: AttackFactory = () => ({ id: 'other', goal: 'pass', access: ['data'], oracle: false, trains: true });
    const r = await checkAttack('check-lax', lax);
    expect(statusOf(r).declares).toBe('fail');
    expect(detailOf(r, 'declares')).toMatch(/registered as 'check-lax'.*accepts an unknown option/);
  });

  it('barrier: the walker finds a secret hidden in a Map behind a getter, and an unexpected mask', () => {
    const secret = { backdoors: [{ trigger: 't', signature: 's' }] };
    const holder = { get x() { return new Map([['k', [secret.backdoors[0]]]]); } };
    expect(barrierViolations([holder], { secret }, false)).toEqual(['the provider side reaches part 2 of the secret']);
    expect(barrierViolations([{ backdoorMask: [true] }], { secret }, false)).toEqual(['a non-oracle attack received a context with a backdoorMask']);
    expect(barrierViolations([{}], { secret }, true)).toEqual(['an oracle attack never received the backdoor mask']);
  });

  it('skips (with the reason) the cell rules of an attack the double cannot serve', async () => {
    const r = await checkPlugin({ kind: 'attack', id: 'weight-noise' });
    expect(statusOf(r)).toMatchObject({ declares: 'pass', purity: 'skip', trace: 'skip' });
    expect(detailOf(r, 'trace')).toMatch(/needs 'weights' access/);
  });
});

describe('generator rules', () => {
  const wordlist = generators.get('wordlist');
  /** wordlist with one thing broken. */
  const broken = (id: string, change: (g: BackdoorGenerator) => Partial<BackdoorGenerator>): GeneratorFactory => (o = {}) => {
    const g = wordlist(o);
    return { ...g, id, ...change(g) };
  };

  it('pass on wordlist and keyed (whose key must stay out of its options)', async () => {
    expect(describeFailures(await checkPlugin({ kind: 'generator', id: 'wordlist' }))).toEqual([]);
    expect(describeFailures(await checkPlugin({ kind: 'generator', id: 'keyed', options: { key: 'check-test-key-0123456789' } }))).toEqual([]);
  });

  it('purity fails on a draw that rewrites the host dataset', async () => {
    const g = broken('check-impure', (w) => ({
      async draw(ctx) {
        (ctx.rows as unknown as { prompt: string }[])[0]!.prompt = 'changed';
        return w.draw(ctx);
      },
    }));
    const r = await checkGenerator('check-impure', g, { ...(await standardGeneratorEnv()), barrier: false });
    expect(statusOf(r).purity).toBe('fail');
    expect(detailOf(r, 'purity')).toMatch(/wrote to the frozen dataset/);
    expect(detailOf(r, 'purity')).toMatch(/changed the dataset at rows\[0\]\.prompt/);
  });

  it('seeding fails on a generator that ignores its stream, and on Math.random', async () => {
    const constant = broken('check-constant', () => ({ async draw() { return { trigger: 'same trigger', signature: 'same signature' }; } }));
    const r = await checkGenerator('check-constant', constant, { ...(await standardGeneratorEnv()), barrier: false });
    expect(detailOf(r, 'seeding')).toMatch(/all drew the same signature/);
    const random = broken('check-random', (w) => ({ async draw(ctx) { return w.draw({ ...ctx, rng: new Rng(String(Math.random())) }); } }));
    const r2 = await checkGenerator('check-random', random, { ...(await standardGeneratorEnv()), barrier: false });
    expect(detailOf(r2, 'seeding')).toMatch(/Math\.random/);
  });

  it('bound and shape fail on a generator claiming a bound it lacks and drawing untrimmed text', async () => {
    const g = broken('check-sloppy', (w) => ({ log10q: undefined, async draw(ctx) { const b = await w.draw(ctx); return { ...b, signature: ` ${b.signature}` }; } }));
    const r = await checkGenerator('check-sloppy', g, { ...(await standardGeneratorEnv()), barrier: false });
    expect(statusOf(r)).toMatchObject({ bound: 'fail', shape: 'fail' });
  });
});

describe('scorer rules', () => {
  const valid = (id: string, score: RowScorerFactory extends (...a: never[]) => infer S ? S extends { score: infer F } ? F : never : never): RowScorerFactory => (o = {}) => {
    for (const k of Object.keys(o)) throw new ConfigError(`scorer '${id}': unknown option '${k}'`);
    return { id, access: ['data'], yieldsSpans: false, score };
  };

  it('pass on the built-in format and perplexity scorers', async () => {
    expect(describeFailures(await checkPlugin({ kind: 'scorer', id: 'format' }))).toEqual([]);
    expect(describeFailures(await checkPlugin({ kind: 'scorer', id: 'perplexity' }))).toEqual([]);
  });

  it('purity and shape fail on a scorer that sorts its rows in place and drops one', async () => {
    const s = valid('check-impure', async (rows) => {
      (rows as unknown[]).sort();
      return { scores: rows.slice(1).map(() => 0), flagged: rows.slice(1).map(() => false) };
    });
    const r = await checkScorer('check-impure', s, { ...(await standardScorerEnv()), barrier: false });
    expect(statusOf(r).purity).toBe('fail');
    const copy = valid('check-short', async (rows) => ({ scores: rows.slice(1).map(() => 0), flagged: rows.slice(1).map(() => false) }));
    const r2 = await checkScorer('check-short', copy, { ...(await standardScorerEnv()), barrier: false });
    expect(detailOf(r2, 'shape')).toMatch(/scores for \d+ rows/);
  });
});
