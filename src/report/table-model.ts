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

/** Two significant digits; exact zero as 0. */
export const sig = (x: number): string => (x === 0 ? '0' : Number(x.toPrecision(2)).toString());
