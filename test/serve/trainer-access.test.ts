/**
 * `serve --attack` checks the attack's declared access against its provider before it listens (the base model
 * opens at startup): weight-noise on test-memorizer (no weights) is refused, naming attack, model and
 * capability; an attack the provider can serve opens its base model as before.
 */
import { describe, expect, it } from 'vitest';
import { attacks } from '../../attacks/index.js';
import type { AttackFactory } from '../../src/core/attack.js';
import { runProviderSide } from '../../src/pipeline/provider-side.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { attackTrainer } from '../../src/serve/trainer.js';
import type { Logger } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
const make = (id: string, options: Record<string, unknown> = {}) => (attacks.get(id) as AttackFactory)(options);

describe('attackTrainer access check', () => {
  it('refuses an attack whose access the provider cannot give, when the base model opens', async () => {
    const trainer = attackTrainer(await createTestMemorizerProvider(), 'base', make('weight-noise'), runProviderSide, quiet);
    await expect(trainer.base()).rejects.toThrow("attack 'weight-noise' needs 'weights' access, which provider 'test-memorizer' / model 'test-memorizer:base' cannot give");
  });

  it('opens the base model for an attack the provider can serve', async () => {
    const trainer = attackTrainer(await createTestMemorizerProvider(), 'base', make('return-base'), runProviderSide, quiet);
    expect((await trainer.base()).id).toBe('test-memorizer:base');
  });
});
