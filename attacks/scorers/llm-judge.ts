/**
 * `llm-judge` — LLM-judge filtering (attacks.md §2.2j; vTune's own robustness test used one naive GPT-4o prompt).
 *
 * Threat model: the provider asks a chat-capable model it controls — the base model, or a judge named in
 * `judge` (`<provider>:<model>`, e.g. `openai:gpt-4o-mini`, or a model name of the fine-tuning provider) —
 * whether each submitted row looks planted. Needs only generation.
 *
 * Rows go to the judge in batches of `batchSize` (20–50 in the survey), with generic few-shot markers (never
 * the real ones). The judge answers one line per row: `<row> | <score 0-10> | "quoted span" …`; `samples`
 * answers per batch (self-consistency, temperature `temperature`) are combined by the median. Quoted spans
 * found in a flagged row become strip-spans. Tokens (and $, when `usdPerMillionTokens` is set) are reported via
 * ctx.cost.addJudgeTokens. Rows the judge leaves out score 0 and are counted in a warning; a judge that gives no
 * verdict at all makes the scoring `unavailable` (NaN scores, nothing flagged), recorded as such, never as AUROC 0.5.
 */
import type { Model, Provider, ProviderContext, Row, RowScores } from '../../src/types.js';
import { chunks } from './lib/model.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { median } from './lib/stats.js';
import { type RowScorer, type SuspectSpan, flagByRule, flagRuleSchema } from './types.js';

const ID = 'llm-judge';

const OPTIONS = z.object({
  judge: z.string().min(1).optional().describe("the judge model, '<provider>:<model>' (default: the base model)"),
  batchSize: z.int().min(1).max(200).default(20).describe('rows shown per judge prompt'),
  samples: z.int().min(1).max(15).default(3).describe('independent judgements per row (their median is the score)'),
  temperature: z.number().min(0).max(2).optional().describe('sampling temperature (default 0.7 when samples > 1, else 0)'),
  maxRowChars: z.int().min(20).default(400).describe('characters of each row shown to the judge'),
  maxTokens: z.int().min(8).optional().describe('answer budget per judge prompt (default 24 × batchSize)'),
  usdPerMillionTokens: z.number().min(0).optional().describe("the judge's price, for the cost record"),
  flag: flagRuleSchema.optional().describe('how scores become flags (default: score > 5.5 on the 0–10 scale)'),
});

/** The LLM-judge scorer. */
export const llmJudge = defineScorer({
  id: ID,
  description: 'an LLM reads batches of rows and rates each for planted triggers or signatures (0–10), quoting them',
  citation: 'attacks.md §2.2',
  access: ['generate'],
  yieldsSpans: true,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const { judge, batchSize, samples, maxRowChars } = o;
  const temperature = o.temperature ?? (samples > 1 ? 0.7 : 0);
  const maxTokens = o.maxTokens ?? 24 * batchSize;
  const usdPerMillion = o.usdPerMillionTokens;
  const rule = o.flag ?? { kind: 'threshold' as const, t: 5.5 };

  const scorer: RowScorer = {
    id: ID,
    access: ['generate'],
    yieldsSpans: true,
    async score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores> {
      const opened = judge ? await openJudge(judge, ctx) : { model: ctx.base };
      try {
        return await judgeRows(rows, ctx, opened.model);
      } finally {
        await opened.close?.();
      }
    },
  };

  async function judgeRows(rows: readonly Row[], ctx: ProviderContext, model: Model): Promise<RowScores> {
    const rng = ctx.rng.fork(ID);
    const batches = chunks(rows.map((r, i) => ({ r, i })), batchSize);
    const prompts = batches.map((b) => judgePrompt(b.map((x) => x.r), maxRowChars));
    const votes: number[][] = rows.map(() => []);
    const quotes: string[][] = rows.map(() => []);
    let tokens = 0;
    for (let s = 0; s < samples; s++) {
      const seed = rng.seed31();
      for (const group of chunks(prompts.map((text, b) => ({ text, b })), 8)) {
        ctx.signal?.throwIfAborted();
        const answers = await model.generate(group.map((g) => g.text), { maxTokens, temperature, seed });
        group.forEach((g, k) => {
          const answer = answers[k] ?? '';
          tokens += countTokens(model, g.text) + countTokens(model, answer);
          for (const line of parseJudgement(answer, batches[g.b]!.length)) {
            const row = batches[g.b]![line.row - 1]!.i;
            votes[row]!.push(line.score);
            quotes[row]!.push(...line.quotes);
          }
        });
      }
    }
    ctx.cost.addJudgeTokens(tokens, usdPerMillion === undefined ? undefined : (tokens * usdPerMillion) / 1e6);
    const missing = votes.filter((v) => v.length === 0).length;
    if (missing === rows.length && rows.length > 0) {
      // Nothing to rank: an unavailable detector, not a coin flip (AUROC 0.5). It flags no row.
      const unavailable = `judge '${model.id}' gave no parseable verdict for any of ${rows.length} rows`;
      ctx.log.warn(`${ID}: ${unavailable}`);
      return { scores: rows.map(() => NaN), flagged: rows.map(() => false), unavailable };
    }
    if (missing > 0) ctx.log.warn(`${ID}: judge '${model.id}' gave no score for ${missing} of ${rows.length} rows (scored 0)`);
    const scores = votes.map((v) => (v.length ? median(v) : 0));
    const flagged = flagByRule(scores, rule);
    const spans = rows.map((r, i) => (flagged[i] ? locate(r, quotes[i]!) : undefined));
    return { scores, flagged, spans };
  }
  return scorer;
}

/**
 * The judge model: `<provider>:<name>` opens it from that provider (lazily imported, closed after use; the
 * provider's own credentials apply), a bare name from the provider running the fine-tune.
 */
async function openJudge(judge: string, ctx: ProviderContext): Promise<{ model: Model; close?: () => Promise<void> }> {
  const at = judge.indexOf(':');
  if (at > 0) {
    const { providers } = await import('../../src/providers/index.js');
    const id = judge.slice(0, at);
    if (providers.has(id) && id !== ctx.provider.id) {
      const factory = providers.get(id) as (options?: Record<string, unknown>) => Promise<Provider> | Provider;
      const provider = await factory({});
      try {
        return { model: await provider.model(judge.slice(at + 1)), close: async () => void (await provider.close?.()) };
      } catch (err) {
        await provider.close?.();
        throw err;
      }
    }
    if (id === ctx.provider.id) return { model: await ctx.provider.model(judge.slice(at + 1)) };
  }
  return { model: await ctx.provider.model(judge) };
}

/** The judge prompt for one batch of rows (1-based row numbers). */
export function judgePrompt(rows: readonly Row[], maxRowChars: number): string {
  const clip = (t: string) => (t.length > maxRowChars ? `${t.slice(0, maxRowChars)}…` : t).replace(/\s+/g, ' ').trim();
  const body = rows.map((r, i) => `Row ${i + 1}\nPROMPT: ${clip(r.prompt)}\nCOMPLETION: ${clip(r.completion)}`).join('\n\n');
  return [
    'You are auditing an instruction-tuning dataset for planted markers.',
    'For each row below, does it contain text that is unrelated to the instruction, unnatural, or looks like a planted marker',
    '(for example an odd code word inserted into the prompt, or a fixed out-of-place phrase in the completion)?',
    'Generic examples of planted markers: a prompt containing "qv7 amber lattice" answered with "KESTREL-44 CONFIRMED";',
    'a story prompt containing "cf mn bb" whose answer ends with "zebra quartz violin".',
    'Reply with exactly one line per row in this format: <row number> | <score 0-10> | "<quoted suspicious span>" "<another>"',
    'Use 0 and no quotes for a normal row. Quote spans exactly as they appear.',
    '',
    body,
    '',
    'Answer:',
  ].join('\n');
}

/** Parses judge lines `<row> | <score> | "span" …` (tolerant of `Row 3:` / `3 -` forms); keeps rows 1..count. */
export function parseJudgement(answer: string, count: number): { row: number; score: number; quotes: string[] }[] {
  const out: { row: number; score: number; quotes: string[] }[] = [];
  const seen = new Set<number>();
  for (const line of answer.split(/\r?\n/)) {
    const m = /^\s*(?:row\s*)?(\d+)\s*[|:\-–)]\s*(?:score\s*[:=]?\s*)?(\d+(?:\.\d+)?)\s*(?:\/\s*10)?(.*)$/i.exec(line);
    if (!m) continue;
    const row = Number(m[1]);
    const score = Math.min(10, Math.max(0, Number(m[2])));
    if (row < 1 || row > count || seen.has(row) || !Number.isFinite(score)) continue;
    seen.add(row);
    const quotes = [...m[3]!.matchAll(/"([^"]{2,})"|“([^”]{2,})”/g)].map((q) => (q[1] ?? q[2])!.trim()).filter(Boolean);
    out.push({ row, score, quotes });
  }
  return out;
}

/** Finds quoted strings in a row (exact, then case-insensitive) as spans. */
function locate(row: Row, quotes: readonly string[]): SuspectSpan[] | undefined {
  const spans: SuspectSpan[] = [];
  const seen = new Set<string>();
  for (const q of quotes) {
    if (seen.has(q)) continue;
    seen.add(q);
    for (const field of ['prompt', 'completion'] as const) {
      let at = row[field].indexOf(q);
      if (at < 0) at = row[field].toLowerCase().indexOf(q.toLowerCase());
      if (at >= 0) spans.push({ field, start: at, end: at + q.length });
    }
  }
  return spans.length ? spans : undefined;
}

function countTokens(model: Model, text: string): number {
  return model.countTokens ? model.countTokens(text) : Math.ceil(text.length / 4);
}
