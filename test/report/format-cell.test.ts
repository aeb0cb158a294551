// src/report/tables.ts after the #16 refactor moved its table model to table-model.ts: the cell formats and the
// CSV of an empty table that no other test reaches (the coverage comparison in results/coverage/ found them).
import { describe, expect, it } from 'vitest';
import { formatCell, toCsv, type ReportTable } from '../../src/report/tables.js';

const rate = { k: 3, n: 10, rate: 0.3, lower: 0.0667, upper: 0.6525 };

describe('formatCell', () => {
  it('a rate column shows rate [lower, upper] n, a dash for a non-rate value and "— (n=0)" for an empty rate', () => {
    expect(formatCell(rate, 'rate')).toBe('0.30 [0.07, 0.65] n=10');
    expect(formatCell(0.3, 'rate')).toBe('—');
    expect(formatCell({ k: 0, n: 0, rate: 0, lower: 0, upper: 1 }, 'rate')).toBe('— (n=0)');
  });

  it('a small-rate column shows k/n with significant digits, a dash for a non-rate value and "— (n=0)" for an empty one', () => {
    expect(formatCell({ k: 1, n: 1000, rate: 0.001, lower: 0.0000253, upper: 0.00556 }, 'smallRate')).toBe('1/1000 = 0.001 [0.000025, 0.0056]');
    expect(formatCell('1/1000', 'smallRate')).toBe('—');
    expect(formatCell({ k: 0, n: 0, rate: 0, lower: 0, upper: 1 }, 'smallRate')).toBe('— (n=0)');
  });

  it('bool reads yes/no, text is the value as a string, missing values are a dash', () => {
    expect(formatCell(true, 'bool')).toBe('yes');
    expect(formatCell(false, 'bool')).toBe('no');
    expect(formatCell(42, 'text')).toBe('42');
    expect(formatCell(undefined, 'text')).toBe('—');
    expect(formatCell(null, 'int')).toBe('—');
  });
});

describe('toCsv', () => {
  it('a table without rows is its header line of column keys', () => {
    const t: ReportTable = {
      id: 'empty',
      title: 'Empty',
      caption: '',
      columns: [
        { key: 'attack', header: 'Attack', kind: 'text' },
        { key: 'n', header: 'n', kind: 'int' },
      ],
      rows: [],
    };
    expect(toCsv(t)).toBe('attack,n\n');
  });
});
