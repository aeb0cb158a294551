/**
 * What a report table is (columns, rows) and the number format the table renderers and the calibration
 * section share. A leaf of src/report, so that tables.ts and calibration.ts need not import each other.
 */

/** How a column's values are shown. */
export type ColumnKind = 'text' | 'int' | 'fixed2' | 'fixed3' | 'log10p' | 'rate' | 'smallRate' | 'usd' | 'bool';

/** One column: a key into the rows, its header, how to show it and (for metrics) its declaration. */
export interface Column {
  readonly key: string;
  readonly header: string;
  readonly kind: ColumnKind;
  /** A METRICS name: carries the unit and whether higher is better. */
  readonly metric?: string;
}

/** A table of the report. Row values are raw (numbers, Rates), formatted only by the renderers. */
export interface ReportTable {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Readonly<Record<string, unknown>>[];
}

/**
 * Columns several tables share (one definition each, so a header reads the same in every table): the place of
 * a row, α as shown (rows carry `alphaShown`, e.g. 1e-3), the three that name a verifier, and a median log10 p.
 */
export const ALPHA_COLUMN: Column = { key: 'alphaShown', header: 'α', kind: 'text' };
/** Dataset, model and defense configuration: where a per-configuration row was measured. */
export const PLACE_COLUMNS: readonly Column[] = [
  { key: 'dataset', header: 'dataset', kind: 'text' },
  { key: 'model', header: 'model', kind: 'text' },
  { key: 'defense', header: 'defense', kind: 'text' },
];
/** A verifier's label, its defense id and its α (the verifier tables). */
export const VERIFIER_COLUMNS: readonly Column[] = [{ key: 'verifier', header: 'verifier', kind: 'text' }, { key: 'id', header: 'defense id', kind: 'text' }, ALPHA_COLUMN];
/** A median log10 p under `key` (header: `<what> log10 p (median)`, or `log10 p (median)`). */
export const log10pMedianColumn = (key: string, what?: string): Column => ({ key, header: `${what ? `${what} ` : ''}log10 p (median)`, kind: 'log10p', metric: 'log10p' });

/** Two significant digits; exact zero as 0. */
export const sig = (x: number): string => (x === 0 ? '0' : Number(x.toPrecision(2)).toString());
