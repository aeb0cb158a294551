// bench/native-bits.ts's options (the bench itself fine-tunes for minutes: not run here). A bad --epochs was
// read as the default 12 without a word; it is now an error naming the option and what it takes.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/native-bits.js';
import { ConfigError } from '../../src/errors.js';

describe('bench/native-bits.ts options', () => {
  it('reads --epochs (default 12) and --child', () => {
    expect(parseArgs([])).toEqual({ epochs: 12, child: false });
    expect(parseArgs(['--epochs', '3'])).toEqual({ epochs: 3, child: false });
    expect(parseArgs(['--child', '--epochs', '2'])).toEqual({ epochs: 2, child: true });
  });

  it('refuses a bad --epochs or an unknown option, naming it', () => {
    expect(() => parseArgs(['--epochs', 'three'])).toThrow(ConfigError);
    expect(() => parseArgs(['--epochs', 'three'])).toThrow('bench/native-bits.ts: --epochs takes a whole number of at least 1, got "three"');
    expect(() => parseArgs(['--epochs', '0'])).toThrow('got "0"');
    expect(() => parseArgs(['--epochs', '2.5'])).toThrow('got "2.5"');
    expect(() => parseArgs(['--epochs'])).toThrow('got nothing');
    expect(() => parseArgs(['--epoch', '3'])).toThrow('bench/native-bits.ts: unknown option --epoch (known: --epochs N)');
  });
});
