/**
 * The self-contained HTML report: the tables, every chart (vega-embed over the inlined vega, vega-lite and
 * vega-embed UMD bundles, so it opens offline) and the manifests. No network requests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { repoRoot } from '../shared-path.js';
import type { FailureRecord, ManifestRecord } from '../records/schema.js';
import type { Chart } from './plots.js';
import { displayRows, type ReportTable } from './tables.js';

/** The folder of an installed package (their `exports` hide build/ and package.json from resolution). */
function packageDir(pkg: string): string {
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new InputError(`cannot find the installed package '${pkg}' (run npm install)`);
  }
}

/** The three UMD bundles, read from the installed packages. */
function bundles(): string[] {
  return [
    ['vega', 'vega.min.js'],
    ['vega-lite', 'vega-lite.min.js'],
    ['vega-embed', 'vega-embed.min.js'],
  ].map(([pkg, file]) => {
    const text = readFileSync(join(packageDir(pkg!), 'build', file!), 'utf8');
    // An inline script ends at the first `</script`; none of these bundles contains one, but make sure.
    return text.replace(/<\/script/gi, '<\\/script');
  });
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes text for HTML and renders the findings' **bold** spans. */
const boldHtml = (s: string): string => escapeHtml(s).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

function tableHtml(t: ReportTable): string {
  const rows = displayRows(t);
  const head = t.columns.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('');
  const body = rows.map((r) => `<tr>${t.columns.map((c) => `<td class="${c.kind === 'text' ? 't' : 'n'}">${escapeHtml(r[c.header]!)}</td>`).join('')}</tr>`).join('\n');
  return `<section id="table-${t.id}"><h2>${escapeHtml(t.title)}</h2><p class="cap">${escapeHtml(t.caption)}</p>
<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>
${body || `<tr><td colspan="${t.columns.length}">(no rows)</td></tr>`}
</tbody></table></div></section>`;
}

/** The whole report as one HTML document. */
export function reportHtml(args: {
  title: string;
  summary: string;
  /** Generated Findings paragraphs (Markdown-light: **bold** only). */
  findings?: readonly string[];
  /** The verifier leaderboard's Findings paragraph and the ids of its tables. */
  verifierFindings?: string;
  verifierTableIds?: readonly string[];
  tables: readonly ReportTable[];
  charts: readonly Chart[];
  manifests: readonly ManifestRecord[];
  failures?: readonly FailureRecord[];
}): string {
  const failures = args.failures?.length
    ? `<section id="failures"><h2>Failed cells</h2><p class="cap">Retried when the run is resumed.</p><div class="scroll"><table><thead><tr><th>attack</th><th>defense</th><th>seed</th><th>stage</th><th>error</th></tr></thead><tbody>
${args.failures.map((f) => `<tr><td>${escapeHtml(f.cell.labels.attack)}</td><td>${escapeHtml(f.cell.labels.defense)}</td><td class="n">${f.cell.seed}</td><td>${escapeHtml(f.stage)}</td><td>${escapeHtml(f.message)}</td></tr>`).join('\n')}
</tbody></table></div></section>`
    : '';
  const chartDivs = args.charts
    .map((c) => `<figure id="fig-${c.id}"><div class="chart" id="chart-${c.id}" data-chart="${c.id}"></div><figcaption>${escapeHtml(c.description)}</figcaption></figure>`)
    .join('\n');
  const specs = Object.fromEntries(args.charts.map((c) => [c.id, c.spec]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(args.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}.cap{color:#555;font-size:.9em;max-width:60em}
table{border-collapse:collapse;font-size:.82em}th,td{padding:.3em .6em;border-bottom:1px solid #ddd;white-space:nowrap}
th{border-bottom:2px solid #444;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}figure{margin:1.5em 0}figcaption{color:#555;font-size:.85em;max-width:60em}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:.75em}
</style>
${bundles().map((b) => `<script>${b}</script>`).join('\n')}
</head><body>
<h1>${escapeHtml(args.title)}</h1>
<p>${escapeHtml(args.summary)}</p>
${args.findings?.length ? `<section id="findings"><h2>Findings</h2>\n${args.findings.map((p) => `<p>${boldHtml(p)}</p>`).join('\n')}</section>` : ''}
${args.tables.filter((t) => !args.verifierTableIds?.includes(t.id)).map(tableHtml).join('\n')}
${args.verifierTableIds ? `<section id="verifiers"><h2>Verifier leaderboard</h2><p>${boldHtml(args.verifierFindings || '(no verifier cells)')}</p>\n${args.tables.filter((t) => args.verifierTableIds!.includes(t.id)).map(tableHtml).join('\n')}</section>` : ''}
${failures}
<h2>Charts</h2>
${chartDivs}
<h2>Manifest</h2>
<pre>${escapeHtml(JSON.stringify(args.manifests, null, 2))}</pre>
<script>
const specs = ${scriptJson(specs)};
window.__chartsRendered = 0;
window.__chartErrors = [];
Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed('#chart-' + id, spec, { actions: false, renderer: 'svg' })
    .then(() => { window.__chartsRendered++; })
    .catch((e) => { window.__chartErrors.push(id + ': ' + e); console.error(e); })
)).then(() => { document.body.dataset.chartsDone = 'true'; });
</script>
</body></html>
`;
}
