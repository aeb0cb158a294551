/**
 * THE hyper-parameter schema (src/plugins/hyper.ts): the scenario loader, the pipeline, the local provider and
 * serve's CLI defaults all check promises with it, so they agree. `epochs: 1.5` used to pass the scenario
 * loader (a positive number) and then fail every cell (the pipeline wanted an integer).
 */
import { describe, expect, it } from 'vitest';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { ConfigError } from '../../src/errors.js';
import { checkHyper, parseHyper } from '../../src/plugins/hyper.js';
import { createLocalProvider } from '../../src/providers/local.js';
import { validateScenario } from '../../src/runner/scenario.js';
import { catalog } from '../runner/fake-catalog.js';

const caught = async (fn: () => unknown): Promise<ConfigError> => {
  const err = await Promise.resolve().then(fn).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
};

describe('the one hyper-parameter schema', () => {
  it('whole epochs, positive rates, integer sizes; unknown keys get a did-you-mean', () => {
    expect(checkHyper({ epochs: 3, learningRate: 1e-3, batchSize: 8, schedule: 'cosine', lora: { rank: 4, alpha: 8 } }).ok).toBe(true);
    const r = checkHyper({ epochs: 1.5, learningRate: 0, batchSize: 8, shedule: 'cosine', lora: { rank: 0 } });
    expect(r.ok ? [] : r.problems).toEqual([
      { path: ['epochs'], message: 'expected an integer ≥ 1, got 1.5' },
      { path: ['learningRate'], message: 'expected a number > 0, got 0' },
      { path: ['lora', 'rank'], message: 'expected an integer ≥ 1, got 0' },
      { path: ['shedule'], message: expect.stringMatching(/^unknown field 'shedule'\. Did you mean 'schedule'\?/) },
    ]);
  });

  it('parseHyper returns the value itself: nothing is added, so keys derived from it do not move', () => {
    const h = { epochs: 2, learningRate: 1e-3, batchSize: 4 };
    expect(parseHyper(h)).toBe(h);
    expect(() => parseHyper({ ...h, epochs: 1.5 }, { subject: 'local provider' })).toThrow('local provider: hyper.epochs: expected an integer ≥ 1, got 1.5');
  });

  it('epochs 1.5 fails at scenario load naming hyper.epochs (path as data)', async () => {
    const raw = { name: 'x', seeds: 1, datasets: ['fake:d'], models: ['fake:base'], defenses: ['vtune'], attacks: ['honest'], hyper: { epochs: 1.5, learningRate: 1e-3, batchSize: 8 } };
    const err = await caught(() => validateScenario(raw, catalog, 'x.json'));
    expect(err.problems).toEqual([{ path: ['hyper', 'epochs'], message: 'expected an integer ≥ 1, got 1.5' }]);
    expect(err.message).toBe('x.json: hyper.epochs: expected an integer ≥ 1, got 1.5');
  });

  it('the local provider and serve refuse the same value with the same words', async () => {
    const provider = await createLocalProvider();
    const base = await provider.model('random-tiny');
    const train = await caught(() => provider.train!(base, { rows: [{ prompt: 'a', completion: 'b' }], hyper: { epochs: 1.5, learningRate: 1e-3, batchSize: 2 }, seed: 1 }));
    expect(train.message).toBe('local provider: hyper.epochs: expected an integer ≥ 1, got 1.5');
    const serve = await caught(() =>
      serveCommand.run({ token: 'a-serve-token-long-enough', epochs: 1.5, 'learning-rate': 1e-3, 'batch-size': 4, 'max-upload-mb': 64, host: '127.0.0.1', 'base-model': 'test-memorizer:base' } as never),
    );
    expect(serve.message).toBe('--epochs expected an integer ≥ 1, got 1.5');
  });
});
