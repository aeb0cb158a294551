/**
 * `calibrate` end to end, shared by the CLI command and the bench: open the base model (and backdoor-free
 * fine-tunes from the training cache), run or resume the null trials, and write the Type-I table and the
 * calibration plot beside the records. The records file is the source of truth; the table and plot are
 * regenerated from it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { providers } from '../providers/index.js';
import { calibrationChart, typeITable } from '../report/calibration.js';
import { renderSvg, svgToPng } from '../report/render.js';
import { toCsv, toMarkdown } from '../report/tables.js';
import type { Logger, Model, Provider } from '../types.js';
import { DEFAULT_ALPHAS, typeIRows, type TypeIRow } from './analyze.js';
import { findNullFineTunes, pickNullFineTunes, type NullFineTuneSearch } from './null-models.js';
import { CALIBRATION_FILE, type CalibrationRecord } from './records.js';
import { runCalibration, type CalibrationOptions, type CalibrationProgress, type CalibrationResult, type NullModelHandle } from './run.js';

export { DEFAULT_ALPHAS, typeIRows } from './analyze.js';
export { generatorLabel, runCalibration, type CalibrationOptions, type DefenseConfig, type GeneratorConfig } from './run.js';

/** Everything `calibrate` needs besides the trial options. */
export interface CalibrateSetup {
  /** `<provider>:<name>` of the base model. */
  readonly model: string;
  /** At most this many backdoor-free cached fine-tunes as further null models (0: the base only). */
  readonly fineTunes: number;
  /** Where run records are searched for backdoor-free fine-tunes, and the training cache's `train` folder. */
  readonly resultsRoot: string;
  readonly cacheTrainRoot: string;
  /** Output folder: records (`calibration.jsonl`), the Type-I table and the calibration plot. */
  readonly outDir: string;
  /** Null modes shown in the table (all recorded modes when absent). */
  readonly nullModes?: readonly string[];
  readonly alphas?: readonly number[];
  /** Write the plot (PNG, SVG, vega-lite JSON); default true. */
  readonly plot?: boolean;
  readonly log: Logger;
  onProgress?(p: CalibrationProgress): void;
}

/** What `calibrate` did and wrote. */
export interface CalibrateOutcome {
  readonly result: CalibrationResult;
  readonly rows: readonly TypeIRow[];
  readonly search?: NullFineTuneSearch;
  readonly nullModels: readonly string[];
  readonly files: readonly string[];
  readonly markdown: string;
}

/** Runs `calibrate`: opens the models, runs the trials, writes records, table and plot. */
export async function calibrate(options: CalibrationOptions, setup: CalibrateSetup): Promise<CalibrateOutcome> {
  const at = setup.model.indexOf(':');
  if (at <= 0 || at === setup.model.length - 1) throw new ConfigError(`--model must be <provider>:<model> (e.g. local:vtb-base), got '${setup.model}'`);
  if (!Number.isInteger(setup.fineTunes) || setup.fineTunes < 0) throw new ConfigError(`--fine-tunes must be a non-negative integer, got ${String(setup.fineTunes)}`);
  const alphas = setup.alphas ?? DEFAULT_ALPHAS;
  for (const a of alphas) if (!(a > 0 && a < 1)) throw new ConfigError(`--alpha values must be in (0, 1), got ${a}`);
  const factory = providers.get(setup.model.slice(0, at)) as (o?: Record<string, unknown>) => Promise<Provider> | Provider;
  const provider = await factory({});
  const opened: Model[] = [];
  try {
    const base = await provider.model(setup.model.slice(at + 1));
    opened.push(base);
    const nullModels: NullModelHandle[] = [{ label: setup.model, kind: 'base', model: base }];
    let search: NullFineTuneSearch | undefined;
    if (setup.fineTunes > 0) {
      if (!provider.loadModel) {
        setup.log.warn(`calibrate: provider '${provider.id}' cannot load cached fine-tunes; using only the base model`);
      } else {
        search = await findNullFineTunes(setup.resultsRoot, setup.cacheTrainRoot, provider, base, setup.model);
        const picked = pickNullFineTunes(search.found, options.dataset.spec, setup.fineTunes);
        for (const ft of picked) {
          const m = await provider.loadModel(ft.modelPath);
          opened.push(m);
          nullModels.push({ label: `ft:${ft.key.slice(0, 12)}`, kind: 'fine-tune', model: m });
          setup.log.info(`calibrate: null fine-tune ft:${ft.key.slice(0, 12)} trained on '${ft.dataset}' without backdoors (run cell ${ft.cellKey})`);
        }
        const offData = picked.filter((ft) => ft.dataset !== options.dataset.spec).length;
        if (offData > 0) {
          setup.log.warn(
            `calibrate: ${offData} of the ${picked.length} null fine-tune(s) trained on other data than '${options.dataset.spec}' (no more backdoor-free fine-tunes of it in the records and cache); ` +
              `still valid nulls, but weaker ones: run a scenario with the train-without-backdoors baseline on '${options.dataset.spec}' to add one`,
          );
        }
        if (search.found.length === 0) {
          setup.log.warn(
            `calibrate: no cached fine-tune without backdoors was found (${search.candidates} train-without-backdoors cell(s) of ${setup.model} in the records under ${setup.resultsRoot}; ` +
              `${search.skipped.length} skipped); using only the base model. Run a scenario with the train-without-backdoors baseline to add one.`,
          );
        }
      }
    }
    const outFile = join(setup.outDir, CALIBRATION_FILE);

    const result = await runCalibration(options, { base, baseLabel: setup.model, nullModels, outFile, log: setup.log, ...(setup.onProgress ? { onProgress: setup.onProgress } : {}) });
    for (const m of setup.nullModes ?? []) {
      if (!result.records.some((r) => m in r.log10pByNullMode)) {
        const seen = [...new Set(result.records.flatMap((r) => Object.keys(r.log10pByNullMode)))].sort();
        setup.log.warn(`calibrate: --null-modes '${m}': no verdict carried this null mode (they carried: ${seen.join(', ') || 'none'}); it has no rows`);
      }
    }
    const written = await writeCalibrationOutputs(result.records, setup.outDir, { alphas, ...(setup.nullModes ? { nullModes: setup.nullModes } : {}), plot: setup.plot ?? true });
    return { result, rows: written.rows, ...(search ? { search } : {}), nullModels: nullModels.map((m) => m.label), files: [outFile, ...written.files], markdown: written.markdown };
  } finally {
    for (const m of opened) await m.dispose?.();
    await provider.close?.();
  }
}

/** Writes the Type-I table (Markdown, CSV) and the calibration plot of `records` into `outDir`. */
async function writeCalibrationOutputs(
  records: readonly CalibrationRecord[],
  outDir: string,
  o: { alphas?: readonly number[]; nullModes?: readonly string[]; plot?: boolean } = {},
): Promise<{ rows: TypeIRow[]; files: string[]; markdown: string }> {
  const shown = o.nullModes ? records.map((r) => ({ ...r, log10pByNullMode: Object.fromEntries(Object.entries(r.log10pByNullMode).filter(([m]) => o.nullModes!.includes(m))) })) : records;
  const rows = typeIRows(shown, o.alphas ?? DEFAULT_ALPHAS);
  const table = typeITable(rows);
  const markdown = toMarkdown(table);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, data: string | Buffer): void => {
    writeFileSync(join(outDir, name), data);
    files.push(join(outDir, name));
  };
  put('type-i.md', markdown);
  put('type-i.csv', toCsv(table));
  if (o.plot !== false && shown.length > 0) {
    const chart = calibrationChart(shown);
    const svg = await renderSvg(chart.spec);
    put('calibration.vl.json', `${JSON.stringify(chart.spec, null, 2)}\n`);
    put('calibration.svg', svg);
    put('calibration.png', svgToPng(svg));
  }
  return { rows, files, markdown };
}
