/** Synthetic calibration records for tests (numbers chosen by the test). */
import type { CalibrationRecord } from '../../src/calibrate/records.js';

/** A record with the given log10 p per mode. */
export function rec(trial: number, log10p: Record<string, number>, over: Partial<CalibrationRecord> = {}): CalibrationRecord {
  return {
    kind: 'calibration',
    schemaVersion: 1,
    config: 'c0',
    generator: { id: 'wordlist', options: {}, label: 'wordlist' },
    count: 4,
    dataset: 'stories',
    nullModel: 'local:vtb-base',
    nullModelKind: 'base',
    baseModel: 'local:vtb-base',
    trial,
    seed: `s${trial}`,
    n: 4,
    k: 0,
    empiricalM: 999,
    log10pByNullMode: log10p,
    ...over,
  };
}
