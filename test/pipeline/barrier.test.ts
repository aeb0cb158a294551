/**
 * The information barrier as a TYPE (DESIGN.md §4): an attack that tries to read the secret or the backdoor
 * mask from its context does not compile. Each `@ts-expect-error` below fails type-checking (npx tsc) the
 * moment the barrier leaks, because the directive then has no error to expect. The runtime half of the proof
 * is the reachability walk in test/attacks/contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { BenchAttack, OracleAttack } from '../../attacks/compose.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { createCostMeter } from '../../src/pipeline/cost.js';
import { Rng } from '../../src/rng.js';
import type { ProviderContext } from '../../src/types.js';
import { memorizerProviderDouble, memoryLogger, onlyProvider } from './doubles.js';

const peeking: BenchAttack = {
  id: 'peeking',
  goal: 'pass',
  access: ['data'],
  oracle: false,
  trains: true,
  async onData(plan, ctx) {
    // @ts-expect-error the provider context has no secret
    void ctx.secret;
    // @ts-expect-error nor a backdoor mask (only an OracleContext has one)
    void ctx.backdoorMask;
    // @ts-expect-error nor a planting stream
    void ctx.planting;
    return plan;
  },
};

const oracle: OracleAttack = {
  id: 'oracle-probe',
  goal: 'pass',
  access: ['data'],
  oracle: true,
  trains: true,
  async onData(plan, ctx) {
    void ctx.backdoorMask; // allowed: oracles are a separate, flagged kind
    // @ts-expect-error even an oracle never gets the secret itself
    void ctx.secret;
    return plan;
  },
};

async function context(): Promise<ProviderContext> {
  const provider = memorizerProviderDouble();
  return { rng: new Rng('barrier'), base: await provider.model('base'), provider, hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 }, log: memoryLogger(), cost: createCostMeter().meter, openModel: onlyProvider(provider) };
}

describe('information barrier', () => {
  it('runProviderSide takes no secret', async () => {
    const ctx = await context();
    const rows = [{ prompt: 'a', completion: 'b' }];
    // @ts-expect-error there is no option through which a secret could be passed
    await runProviderSide(peeking, rows, ctx, { secret: { signatures: ['x'] } });
    const out = await runProviderSide(peeking, rows, ctx);
    expect(out.trace.trainCalls).toHaveLength(1);
  });

  it('an oracle attack without a mask is refused; with one it sees only the mask', async () => {
    const ctx = await context();
    const rows = [{ prompt: 'a', completion: 'b' }];
    await expect(runProviderSide(oracle, rows, ctx)).rejects.toThrow(/needs the backdoor mask/);
    const out = await runProviderSide(oracle, rows, ctx, { backdoorMask: [true] });
    expect(out.trace.rowsPlanned).toBe(1);
  });

  it('the context handed to hooks is the instrumented one: training goes through the measuring wrapper', async () => {
    const ctx = await context();
    let seen: ProviderContext | undefined;
    const sneaky: BenchAttack = {
      id: 'sneaky',
      goal: 'pass',
      access: ['data'],
      oracle: false,
      trains: true,
      async onTraining(plan, c) {
        seen = c;
        // Trains on a single row through the provider it was given: the wrapper must see exactly that.
        return c.provider.train!(c.base, { rows: plan.rows.slice(0, 1), hyper: plan.hyper, seed: 1 });
      },
    };
    const rows = [{ prompt: 'a', completion: 'b' }, { prompt: 'c', completion: 'd' }];
    const out = await runProviderSide(sneaky, rows, ctx);
    expect(seen!.provider).not.toBe(ctx.provider);
    expect(out.trace.trainCalls.map((c) => c.rows.length)).toEqual([1]);
  });
});
