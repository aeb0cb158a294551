/**
 * vega-lite → vega (headless) → SVG → PNG with resvg and the bundled DejaVu fonts, so a chart renders to the
 * same bytes on any machine. Text is measured with the real glyph advances (opentype.js), not vega's
 * 0.8·size-per-character estimate, so labels and titles get the room they need.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VegaLiteSpec } from './plots.js';

const require = createRequire(import.meta.url);

/** Paths of the bundled fonts (regular, bold). */
export function fontFiles(): { regular: string; bold: string } {
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return { regular: join(dir, 'DejaVuSans.ttf'), bold: join(dir, 'DejaVuSans-Bold.ttf') };
}

/** The bits of an opentype.js font used here (the package ships no types). */
interface Font {
  readonly unitsPerEm: number;
  charToGlyph(ch: string): { advanceWidth?: number };
}

let measuring = false;
/** Installs glyph-accurate text widths into vega (once per process). */
async function installTextMetrics(): Promise<void> {
  if (measuring) return;
  const files = fontFiles();
  const specifier = 'opentype.js';
  const opentype = ((await import(specifier)) as { default: { parse(b: ArrayBuffer): Font } }).default;
  const load = (p: string): Font => {
    const b = readFileSync(p);
    return opentype.parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const regular = load(files.regular);
  const bold = load(files.bold);
  const cache = new Map<string, number>();
  const metrics = (vega as unknown as { textMetrics: { width: (item: any, text: string) => number } }).textMetrics;
  metrics.width = (item: any, text: unknown): number => {
    const s = text === undefined || text === null ? '' : String(text);
    const size = Number(item?.fontSize ?? 11);
    const isBold = item?.fontWeight === 'bold' || Number(item?.fontWeight) >= 600;
    const key = `${isBold ? 'b' : 'r'}${s}`;
    let units = cache.get(key);
    if (units === undefined) {
      const font = isBold ? bold : regular;
      // charToGlyph per character: getAdvanceWidth trips on DejaVu's GSUB tables in opentype.js 2.0.
      units = 0;
      for (const ch of s) units += font.charToGlyph(ch).advanceWidth ?? font.unitsPerEm * 0.6;
      units /= font.unitsPerEm;
      cache.set(key, units);
    }
    return units * size;
  };
  measuring = true;
}

/**
 * Renumbers vega's clip-path ids (`clip<N>`) in order of first appearance. vega draws N from a counter global to
 * the process, so the same chart rendered after other charts got other ids: a report was byte-identical only
 * when its charts were rendered in a fresh process in the same order.
 */
export function normaliseClipIds(svg: string): string {
  const ids = new Map<string, string>();
  return svg.replace(/\b(id="|url\(#)clip(\d+)\b/g, (_m, lead: string, n: string) => {
    let id = ids.get(n);
    if (id === undefined) {
      id = String(ids.size + 1);
      ids.set(n, id);
    }
    return `${lead}clip${id}`;
  });
}

/** Compiles a vega-lite spec and renders it to SVG text (clip ids numbered per chart: normaliseClipIds). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  await installTextMetrics();
  const { spec: vgSpec } = compile(spec as never);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return normaliseClipIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG at 2× with only the bundled fonts (deterministic output). */
export function svgToPng(svg: string): Buffer {
  const files = fontFiles();
  return new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: false, fontFiles: [files.regular, files.bold], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}
