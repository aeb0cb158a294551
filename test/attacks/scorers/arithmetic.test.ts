/**
 * The `arithmetic` scorer: checks the equations a completion writes (GSM8K `<<a*b=c>>c` annotations and plain
 * `a x b = c`), with precedence, rounding, currency, thousands and percent; leaves text that is not arithmetic
 * alone; and on real data flags the rows `template` refills while flagging few clean rows (GSM8K: the 8 rows whose
 * written arithmetic is wrong; built-in math: none).
 */
import { describe, expect, it } from 'vitest';
import { arithmetic } from '../../../attacks/scorers/arithmetic.js';
import { checkEquations } from '../../../src/datasets/equations.js';
import { scorers } from '../../../attacks/scorers/index.js';
import { pluginInfo } from '../../../src/cli/commands/list.js';
import { loadDataset } from '../../../src/datasets/index.js';
import { readDataFile } from '../../../src/datasets/files.js';
import { sharedPath } from '../../../src/shared-path.js';
import type { Row } from '../../../src/types.js';
import { vtune } from '../../../defenses/vtune/index.js';
import { userCtx } from '../../defenses/fixtures.js';
import { fakeContext, fakeLm } from '../fakes.js';

/** Whether each checked equation of a text holds, in order. */
const verdicts = (text: string) => checkEquations(text).map((c) => c.ok);
const score = async (completions: readonly string[]) =>
  arithmetic().score(
    completions.map((completion) => ({ prompt: 'Q', completion })),
    fakeContext(fakeLm(), 'a'),
  );

describe('arithmetic scorer', () => {
  it('is registered, so `vtune-bench detectors` grades it and `vtune-bench list scorers` shows it', () => {
    expect(scorers.ids).toContain('arithmetic');
    expect(pluginInfo('scorers', 'arithmetic').description).toMatch(/equations are wrong/);
  });

  describe('checks the equations of both notations', () => {
    it.each([
      // GSM8K annotations: the expression, and the number written after `>>`.
      ['Natalia sold 48/2 = <<48/2=24>>24 clips in May.', [true]],
      ['Natalia sold 48/2 = <<48/2=25>>25 clips in May.', [false]],
      ['Natalia sold 48/2 = <<48/2=24>>26 clips in May.', [false]],
      ['Natalia sold 36/2 = <<48/2=24>>24 clips in May.', [false]],
      ['Betty has only $<<100/2=50>>50.', [true]],
      ['Betty has only $<<100/2=50>>55.', [false]],
      ['Betty has only $<<100/2=60>>60.', [false]],
      ['It costs <<1000*2=2000>>2,000 dollars and <<10/3=3.33>>3.3 cents.', [true, true]],
      // Plain text: x, ×, −, –, ÷, currency.
      ['Each box costs 12 x 5 = $60.', [true]],
      ['Each box costs 12 x 5 = $65.', [false]],
      ['So 3x4=12, 6 × 7 = 42, 9 ÷ 3 = 3, €40 − €4 = €36 and 97 – 12 = 85.', [true, true, true, true, true]],
      // Precedence.
      ['2 + 3 * 4 = 14', [true]],
      ['2 + 3 * 4 = 20', [false]],
      ['(2 + 3) * 4 = 20', [true]],
      ['20 - 8 / 2 = 16 and 20 - 8 / 2 = 6', [true, false]],
      ['He pays 2 * 3 + 4 * 5 = 26 dollars.', [true]],
      // Decimals and rounding (rounded or truncated results hold; an integer value must be exact).
      ['0.2 x 50 = 10, .25 * 16 = 4, 10/3 = 3.33, 2/3 = 0.66, 7/2 = 3', [true, true, true, true, true]],
      ['10/3 = 3.4', [false]],
      ['48/2 = 24.5', [false]],
      // Thousands, percent, negative results.
      ['1,000 + 2,500 = 3,500', [true]],
      ['1,000 + 2,500 = 3,600', [false]],
      ['50 * 20% = 10, 10/50 * 100 = 20%, 100% - 20% = 80%', [true, true, true]],
      ['50 * 20% = 15', [false]],
      ['5 - 8 = -3', [true]],
      // Chains, mixed numbers, multiplication by a parenthesis, division by zero.
      ['48 + 24 = 72 + 10 = 82', [true, true]],
      ['48 + 24 = 72 + 10 = 85', [true, false]],
      ['8 x 1 1/2 = 12', [true]],
      ['Second hour = 66(2) = 132 apples', [true]],
      ['Second hour = 66(2) = 130 apples', [false]],
      ['3000/0 = 5', [false]],
    ])('%s', (text, expected) => {
      expect(verdicts(text)).toEqual(expected);
    });

    it.each([
      'Natalia sold 48 clips in April and half as many in May.',
      'The answer is 5.',
      'It starts at 10:30 + 2 = 12:30.',
      'half of 10 + 4 = 9',
      'There are 60 students x 2/3 = 40 students',
      'The house had 20 total gnomes – 12 = 8',
      '100-x+40-30 = 60',
      'because1+1+ 1 = 3',
      '12 x 1 and 1/4 = 15',
      'a == b, x => 1 + 2',
    ])('leaves text that is not (whole) arithmetic alone: %s', (text) => {
      expect(checkEquations(text)).toEqual([]);
    });

    it('counts a written step and its annotation as one equation, wrong if either is', () => {
      const [c] = checkEquations('So he writes 3*2=<<3*2=6>>7 pages.');
      expect(c).toEqual({ start: 13, end: 27, text: '3*2=<<3*2=6>>7', ok: false });
      expect(checkEquations('3*2=<<3*2=6>>6 and 5+5=<<5+5=10>>10')).toHaveLength(2);
    });
  });

  it('scores w + w/n (w wrong of n checked): 0 without equations or errors; the count ranks first, the share next', async () => {
    const s = await score([
      'No equation here.',
      '2 + 2 = 4 and 3 * 3 = 9',
      '2 + 2 = 5 and 3 * 3 = 9',
      '2 + 2 = 5',
      '2 + 2 = 5, 3 * 3 = 10 and 1 + 1 = 2',
      '2 + 2 = 5, 3 * 3 = 10',
    ]);
    expect(s.scores).toEqual([0, 0, 1.5, 2, 2 + 2 / 3, 3]);
    expect(s.flagged).toEqual([false, false, true, true, true, true]);
    const top = await arithmetic({ flag: { kind: 'top-fraction', q: 0.2 } }).score(
      ['2 + 2 = 4', '2 + 2 = 5', '2 + 2 = 5, 3 * 3 = 10', 'none', 'none'].map((completion) => ({ prompt: 'Q', completion })),
      fakeContext(fakeLm(), 'a'),
    );
    expect(top.flagged).toEqual([false, false, true, false, false]);
  });

  it('validates its options', () => {
    expect(() => arithmetic({ flag: { kind: 'threshold' } })).toThrow(/flag/);
    expect(() => arithmetic({ tolerance: 1 })).toThrow(/tolerance/);
  });

  it('on the built-in math data: every clean row has a checked equation and none is flagged; every template-refilled row is', async () => {
    const { train } = await loadDataset('math', { seed: 0, size: 1000 });
    expect(train.every((r) => checkEquations(r.completion).length > 0)).toBe(true);
    const planted = await vtune({ generator: 'template', count: 10, insertion: 'modify', seed: 'arithmetic-math' }).plant(train, userCtx('math'));
    const mask = vtune({}).backdoorMask(planted.secret, planted.rows.length);
    const s = await arithmetic().score(planted.rows, fakeContext(fakeLm(), 'a'));
    expect(s.flagged.filter((f, i) => f && mask[i])).toHaveLength(10);
    expect(s.flagged.filter((f, i) => f && !mask[i])).toHaveLength(0);
  });

  const gsm = sharedPath('data/gsm8k-train-2500.jsonl');
  const skip = gsm ? '' : ' — skipped: ../shared/data/gsm8k-train-2500.jsonl absent';
  describe.skipIf(!gsm)(`on the real GSM8K file${skip}`, () => {
    let rows: readonly Row[] = [];
    const load = async () => (rows.length ? rows : (rows = (await readDataFile(gsm!)).rows));

    it('flags exactly the 8 clean rows whose written arithmetic is wrong, of 8,000+ equations checked', async () => {
      const all = await load();
      const checks = all.map((r) => checkEquations(r.completion));
      expect(checks.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(8000);
      const s = await arithmetic().score(all, fakeContext(fakeLm(), 'a'));
      const flagged = s.flagged.flatMap((f, i) => (f ? [i] : []));
      // 6 real mistakes (e.g. `192*100=$1920`, `6*2.5 = $<<6*3=18.00>>18.00`, `100 * 0.75 = $0.75`) and 2 unit
      // changes (`$1 / 2 = 50 cents`, `$2.50 - $2.24 = 26 cents`).
      expect(flagged).toEqual([167, 168, 198, 224, 502, 716, 874, 2429]);
      expect(checks[167]!.filter((c) => !c.ok).map((c) => c.text)).toEqual(['192*100=$1920']);
      expect(checks[874]!.filter((c) => !c.ok).map((c) => c.text)).toEqual(['1 / 2 = 50']);
    });

    it('flags every row the template generator refills', async () => {
      const train = (await load()).slice(0, 1400);
      const planted = await vtune({ generator: 'template', count: 10, insertion: 'modify', seed: 'arith-b' }).plant(train, userCtx('b'));
      const mask = vtune({}).backdoorMask(planted.secret, planted.rows.length);
      const s = await arithmetic().score(planted.rows, fakeContext(fakeLm(), 'a'));
      expect(s.flagged.filter((f, i) => f && mask[i])).toHaveLength(10);
      expect(s.flagged.filter((f, i) => f && !mask[i])).toHaveLength(7); // the known mistakes among the first 1,400 rows
    });
  });
});
