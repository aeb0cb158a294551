/** The one finite-value helper of records (src/records/finite.ts): ±Infinity kept as ±MAX_VALUE, NaN refused. */
import { describe, expect, it } from 'vitest';
import { VerdictError } from '../../src/errors.js';
import { finiteForRecord, finiteMapForRecord } from '../../src/records/finite.js';

describe('finiteForRecord', () => {
  it('keeps finite numbers, writes ±Infinity as ±MAX_VALUE with its sign, and throws a VerdictError naming the field on NaN', () => {
    expect(finiteForRecord(-3.5, 'x')).toBe(-3.5);
    expect(finiteForRecord(-Infinity, 'x')).toBe(-Number.MAX_VALUE);
    expect(finiteForRecord(Infinity, 'x')).toBe(Number.MAX_VALUE);
    expect(() => finiteForRecord(NaN, "defense 'd' returned verdict.log10p")).toThrow(VerdictError);
    expect(() => finiteForRecord(NaN, "defense 'd' returned verdict.log10p")).toThrow("defense 'd' returned verdict.log10p is NaN");
  });
  it('maps every value of a per-mode map, leaves undefined entries out, and names the mode of a NaN (as src/errors.ts formatPath writes paths)', () => {
    expect(finiteMapForRecord({ generator: -Infinity, empirical: -2, conditional: undefined }, 'm')).toEqual({ generator: -Number.MAX_VALUE, empirical: -2 });
    expect(() => finiteMapForRecord({ generator: -1, 'base-model': NaN }, 'verdict.log10pByNullMode')).toThrow('verdict.log10pByNullMode.base-model is NaN');
  });
});
