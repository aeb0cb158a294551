/**
 * The one place numbers are made fit for JSON records (trial records, calibration records). JSON has no
 * Infinity and no NaN (`JSON.stringify` writes `null` for both), so:
 * - ±Infinity is recorded as ±`Number.MAX_VALUE`, sign kept: a log10 p that underflowed reads as the most
 *   negative finite log10 p (the strongest evidence a double can hold), an unscoreable loss as the largest
 *   finite loss. Readers treat ±MAX_VALUE as "at least this far out".
 * - NaN is not a value but a fault: written as −MAX_VALUE it would read as a tiny p-value (a broken verifier
 *   turned into a "verified" verdict), written as `null` it would break the record. It throws a VerdictError
 *   naming the field.
 */
import { formatPath, VerdictError } from '../errors.js';

/** `x` as a record holds it: finite as is, ±Infinity as ±MAX_VALUE; NaN throws naming `field` (who and where). */
export function finiteForRecord(x: number, field: string): number {
  if (Number.isNaN(x)) throw new VerdictError(`${field} is NaN: not a number a record can hold (a verifier fault, not a verdict)`);
  return Number.isFinite(x) ? x : x > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

/** `.key`, or `["a key"]` when the key is not plain (as src/errors.ts formatPath writes field paths). */
const key = (k: string): string => formatPath(['_', k]).slice(1);

/** Every value of a map through `finiteForRecord` (undefined entries left out), keys and order kept. */
export function finiteMapForRecord(map: Readonly<Record<string, number | undefined>>, field: string): Record<string, number> {
  return Object.fromEntries(Object.entries(map).flatMap(([k, x]) => (x === undefined ? [] : [[k, finiteForRecord(x, `${field}${key(k)}`)]])));
}
