/**
 * The Type-I section of the report, from calibration records (src/calibrate): the Type-I table per
 * (generator configuration × null model × null mode) at several α, the calibration plot (null p-values against
 * the uniform), and the lookup that gives the headline tables their Type-I cells — per null mode, with n.
 */
import { canonicalJson } from '../core/canonical-json.js';
import { generators } from '../../defenses/vtune/generators/index.js';
import { alphaCell, ANTI_CONSERVATIVE_MODES, calibrationCurves, reaches, type TypeIRow } from '../calibrate/analyze.js';
import type { CalibrationRecord } from '../calibrate/records.js';
import type { TrialRecord } from '../records/schema.js';
import { defenseRows, rate, type DefenseRow, type Rate } from './analyze.js';
import { CHART_CONFIG, type Chart } from './plots.js';
import { sig, type ReportTable } from './table-model.js';

/** How a null mode is named wherever it is printed: the paper's base-model mode is labelled as such. */
function nullModeLabel(mode: string): string {
  return ANTI_CONSERVATIVE_MODES.includes(mode) ? `${mode} (paper's; anti-conservative)` : mode;
}

const mark = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');

/** The Type-I table. Columns per α: P(p ≤ α) with its interval, and the α + 3σ line with ✓/✗. */
export function typeITable(rows: readonly TypeIRow[]): ReportTable {
  const alphas = rows[0]?.cells.map((c) => c.alpha) ?? [];
  const columns: ReportTable['columns'][number][] = [
    { key: 'generator', header: 'generator', kind: 'text' },
    { key: 'count', header: 'backdoors', kind: 'int' },
    { key: 'nullModelShown', header: 'null model', kind: 'text' },
    { key: 'nullModeShown', header: 'null mode', kind: 'text' },
    { key: 'trials', header: 'trials', kind: 'int' },
  ];
  alphas.forEach((a, i) => {
    columns.push({ key: `rate${i}`, header: `P(p ≤ ${a})`, kind: 'smallRate', metric: 'typeIError' });
    columns.push({ key: `line${i}`, header: `α+3σ (${a})`, kind: 'text' });
    if (rows.some((r) => r.cells[i]?.binomial99 !== undefined)) columns.push({ key: `b99_${i}`, header: `Bin(n, ${a}) 99th pct`, kind: 'text' });
  });
  columns.push({ key: 'inflation', header: 'inflation (measured/α)', kind: 'text' });
  return {
    id: 'type-i',
    title: 'Type-I error per null mode (calibration: fresh secrets against models that never saw them)',
    caption:
      'Each trial plants a fresh secret and verifies it against a model that never saw it, so every p ≤ α is a false verification. ' +
      'P(p ≤ α): count/trials with its 95% Clopper-Pearson interval. α+3σ: the line a valid mode stays under (σ = √(α(1−α)/n)), ✓ when the measured rate does. ' +
      "Bin(n, α) 99th pct: a valid mode's count exceeds it with probability ≤ 1%, ✓ when the count does not. " +
      "The paper's base-model null is anti-conservative (DESIGN.md §3): its inflation is printed, not hidden. All modes come from the same outputs.",
    columns,
    rows: rows.map((r) => {
      const row: Record<string, unknown> = {
        generator: r.generator,
        count: r.count,
        nullModelShown: `${r.nullModel} (${r.nullModelKind})`,
        nullModeShown: nullModeLabel(r.nullMode),
        trials: r.trials,
        inflation: r.cells.map((c) => `${c.alpha}: ${Number.isFinite(c.inflation) ? `${sig(c.inflation)}×` : '—'}`).join(', '),
      };
      r.cells.forEach((c, i) => {
        row[`rate${i}`] = { k: c.k, n: c.n, rate: c.rate, lower: c.lower, upper: c.upper } satisfies Rate;
        row[`line${i}`] = Number.isFinite(c.threeSigma) ? `${sig(c.threeSigma)}${mark(c.withinThreeSigma)}` : '—';
        if (c.binomial99 !== undefined) row[`b99_${i}`] = `${c.binomial99}${mark(c.withinBinomial99)}`;
      });
      return row;
    }),
  };
}

/** Calibration records that match a headline row: same generator and validated options, count, base model, dataset. */
export function matchingCalibration(records: readonly CalibrationRecord[], row: Pick<DefenseRow, 'generatorId' | 'generatorOptions' | 'backdoors' | 'model' | 'datasetSpec'>): CalibrationRecord[] {
  let options: string;
  try {
    options = canonicalJson(generators.get(row.generatorId)({ ...row.generatorOptions }).options);
  } catch {
    // A configuration that no longer validates (or needs a key) cannot be matched: no calibration, not a guess.
    return [];
  }
  return records.filter(
    (r) =>
      r.generator.id === row.generatorId && canonicalJson(r.generator.options) === options && r.count === row.backdoors && r.baseModel === row.model && r.dataset === row.datasetSpec,
  );
}

/** The defense a calibration record calibrated: its `defense` when recorded, else vtune for a vTune generator, else the generator id. */
export function calibratedDefenseId(record: CalibrationRecord): string {
  return record.defense?.id ?? (generators.has(record.generator.id) ? 'vtune' : record.generator.id);
}

/** Options as compared between a calibration and a trial: without α (the level a p-value is read at, not part of it). */
const withoutAlpha = (o: Readonly<Record<string, unknown>>): string => canonicalJson(Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'alpha')));

/** A rival verifier's configuration as a calibration is matched to it. */
interface RivalConfiguration {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly dataset: string;
  readonly model: string;
}

/**
 * Whether a calibration record calibrated a (non-vTune) defense configuration: the same defense id, the same
 * options apart from α, the same dataset and base model. Options are compared as written (a scenario that
 * spells out a default does not match a calibration that left it out: no calibration rather than a guess).
 */
function rivalMatches(record: CalibrationRecord, c: RivalConfiguration): boolean {
  return (
    calibratedDefenseId(record) === c.id &&
    withoutAlpha(record.defense?.options ?? record.generator.options) === withoutAlpha(c.options) &&
    record.dataset === c.dataset &&
    record.baseModel === c.model
  );
}

/** rivalMatches for the configuration of a trial. */
export function rivalCalibrationMatches(record: CalibrationRecord, t: TrialRecord): boolean {
  return rivalMatches(record, { id: t.cell.defense.id, options: t.cell.defense.options, dataset: t.cell.dataset.spec, model: t.cell.model });
}

/** The calibration records of a headline row's configuration, vTune's (matchingCalibration) or a rival's (rivalMatches). */
export function calibrationOfRow(records: readonly CalibrationRecord[], row: DefenseRow): CalibrationRecord[] {
  if (row.defenseId === 'vtune') return matchingCalibration(records, row);
  return records.filter((r) => rivalMatches(r, { id: row.defenseId, options: row.defenseOptions, dataset: row.datasetSpec, model: row.model }));
}

/**
 * The calibration records of the configurations the trials ran: vTune's matched to a headline row
 * (matchingCalibration), a rival's by rivalCalibrationMatches. Records of other configurations (another
 * generator, option, model or dataset) say nothing about these trials and are left out of their report.
 */
export function calibrationFor(records: readonly CalibrationRecord[], trials: readonly TrialRecord[]): CalibrationRecord[] {
  const keep = new Set<CalibrationRecord>();
  for (const h of defenseRows(trials)) for (const r of calibrationOfRow(records, h)) keep.add(r);
  return records.filter((r) => keep.has(r));
}

/** Type-I at α per null mode over the given records (every null model pooled: each trial has its own secret). */
export function typeIByMode(records: readonly CalibrationRecord[], alpha: number): Map<string, Rate> {
  const counts = new Map<string, { k: number; n: number }>();
  for (const r of records) {
    for (const [mode, log10p] of Object.entries(r.log10pByNullMode)) {
      const c = counts.get(mode) ?? { k: 0, n: 0 };
      c.n++;
      if (reaches(log10p, alpha)) c.k++;
      counts.set(mode, c);
    }
  }
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([mode, c]) => [mode, rate(c.k, c.n)]));
}

/**
 * The text of a Type-I-by-mode cell: `mode k/n = r [lo, hi]` per mode, the decision mode marked with *, and
 * "exceeds α" where the count is above what a valid mode gives (α + 3σ, or the binomial 99th percentile for
 * α ≤ 0.01): DESIGN.md §3 wants such p-values labelled.
 */
export function typeIByModeText(byMode: ReadonlyMap<string, Rate>, decisionMode: string, alpha: number): string {
  if (byMode.size === 0) return '— (no calibration records)';
  return [...byMode]
    .map(([mode, r]) => {
      const cell = alphaCell(alpha, r.k, r.n);
      const exceeds = !cell.withinThreeSigma || cell.withinBinomial99 === false;
      const name = ANTI_CONSERVATIVE_MODES.includes(mode) ? `${mode} (paper's, anti-conservative)` : mode;
      return `${mode === decisionMode ? '*' : ''}${name} ${r.k}/${r.n} = ${sig(r.rate)} [${sig(r.lower)}, ${sig(r.upper)}]${exceeds ? ' ✗ exceeds α' : ''}`;
    })
    .join('; ');
}

/** The calibration plot: empirical CDF of null p-values against p, log axes, with the diagonal (uniform). */
export function calibrationChart(records: readonly CalibrationRecord[]): Chart {
  const floor = 1e-4;
  // The smallest share a curve can show is 1/trials: the axes reach down to the decade below it (at least 1e-4).
  const sizes = new Map<string, number>();
  for (const r of records) sizes.set(`${r.generator.label}\u0000${r.nullModel}`, (sizes.get(`${r.generator.label}\u0000${r.nullModel}`) ?? 0) + 1);
  const most = Math.max(1, ...sizes.values());
  const lo = Math.max(floor, 10 ** Math.floor(Math.log10(1 / most)));
  const points = calibrationCurves(records, 160, lo);
  // Shares below the axis floor (0 included: no p-value that small) sit on the bottom edge.
  const data = points.map((p) => ({ generator: p.generator, series: `${p.nullMode} · ${p.nullModel}`, nullMode: p.nullMode, nullModel: p.nullModel, p: Math.max(p.p, lo), ecdf: Math.max(p.ecdf, lo) }));
  const generatorsShown = [...new Set(data.map((d) => d.generator))].sort();
  const diagonal = generatorsShown.flatMap((generator) => [lo, 1].map((v) => ({ generator, p: v, ecdf: v })));
  const modes = [...new Set(data.map((d) => d.nullMode))].sort();
  const ticks = [1e-4, 1e-3, 1e-2, 1e-1, 1].filter((t) => t >= lo);
  const axis = (title: string) => ({ title, values: ticks, format: '~g' });
  return {
    id: 'calibration',
    title: 'Calibration of the null modes',
    description:
      'Empirical CDF of the p-values of null trials (fresh secrets, models that never saw them) against p, on log axes. A valid p-value lies on or below the dashed diagonal (uniform); a curve above it is anti-conservative. ' +
      `p-values below ${lo} are drawn at ${lo}, and shares below ${lo} (including none) on the bottom edge.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Calibration: P(null p ≤ x) against x (dashed: uniform)',
      background: 'white',
      padding: 12,
      config: CHART_CONFIG,
      data: { values: [...data.map((d) => ({ ...d, layer: 'curve' })), ...diagonal.map((d) => ({ ...d, layer: 'diagonal', series: 'uniform', nullMode: 'uniform', nullModel: '' }))] },
      // Three panels a row: a page calibrating many configurations wraps instead of growing one unreadable row.
      facet: { field: 'generator', type: 'nominal', title: null, sort: generatorsShown },
      columns: 3,
      spec: {
        width: 280,
        height: 280,
        layer: [
          {
            transform: [{ filter: "datum.layer === 'diagonal'" }],
            mark: { type: 'line', strokeDash: [5, 4], color: '#888', clip: true },
            encoding: {
              x: { field: 'p', type: 'quantitative', scale: { type: 'log', domain: [lo, 1] }, axis: axis('x (p-value threshold)') },
              y: { field: 'ecdf', type: 'quantitative', scale: { type: 'log', domain: [lo, 1] }, axis: axis('share of null p-values ≤ x') },
            },
          },
          {
            transform: [{ filter: "datum.layer === 'curve'" }],
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, clip: true, point: { size: 18 } },
            encoding: {
              x: { field: 'p', type: 'quantitative', scale: { type: 'log', domain: [lo, 1] } },
              y: { field: 'ecdf', type: 'quantitative', scale: { type: 'log', domain: [lo, 1] } },
              color: { field: 'nullMode', type: 'nominal', title: 'null mode', scale: { domain: modes }, legend: { orient: 'bottom', labelExpr: "datum.label === 'base-model' ? \"base-model (paper's)\" : datum.label" } },
              strokeDash: { field: 'nullModel', type: 'nominal', title: 'null model', legend: { orient: 'bottom' } },
              detail: { field: 'series', type: 'nominal' },
              order: { field: 'p', type: 'quantitative' },
            },
          },
        ],
      },
    },
  };
}
