/**
 * `arithmetic` — the cheap semantic filter a dishonest provider tries first on math data: check the equations each
 * completion writes and flag the rows whose arithmetic is wrong. Generators that refill an answer's numbers
 * (`template`, `in-place` when it refills a number) break the equations around them; a clean worked answer keeps them.
 *
 * Threat model: data access only, no model. What is checked, in the completion:
 * - GSM8K calculator annotations `<<48/2=24>>24`: the expression must give its result, and a number written right
 *   after `>>` must be that result;
 * - plain equations `48 / 2 = 24`, `12 x 5 = $60`, `2 + 3 * 4 = 14`, `8 x 1 1/2 = 12`, `66(2) = 132` (in the text with
 *   the annotations removed): the run of numbers, operators (+ - − – * × x / ÷) and parentheses before an `=`, which
 *   must parse whole as an expression with at least one operator (bar an unmatched `(` or a bullet's `-` at its
 *   start), against the number after the `=`. Numbers may have decimals (`.5`, `0.25`), thousands separators
 *   (`1,000`), a currency sign ($ € £) and `%` (read both as /100 and as written); `3rd`, `10:30`, `0900` are words.
 *   A chained `a + b = c + d = e` checks `a + b = c` and `c + d = e` (or `a + b = c + d` when that holds).
 * A plain equation whose result is an annotation's follow-up number is the same step as its annotation: one
 * equation, wrong if either check fails. Expressions are evaluated with the usual precedence by a small parser (no
 * eval). A word ends an expression, and a run that goes on into a word (`20 gnomes – 12 = 8`, `x+40-30 = 60`,
 * `because1+1`) or follows a word that takes a number (`half of 10 + 4`, `60 students x 2/3`: of, x, times, by,
 * plus, minus, over; `and` between a number and a fraction, `1 and 1/4`) is not checked: it is only the end of
 * what is computed.
 * Tolerance (written results are rounded): a result written with d decimals holds if it is the exact value rounded or
 * truncated to d decimals (`10/3=3.33`, `2/3=0.66`, `7/2=3`; not `10/3=3.4`), so a value that is an integer must be
 * written exactly (`48/2=25` is wrong); a follow-up number must be its annotation's result rounded or truncated to
 * the coarser of the two's last digits (`3.33` then `3.3`). Operands are exact; a division by zero holds for no result.
 * Score = w + w/n for a completion with n checked equations of which w are wrong (0 without equations or errors):
 * the count of wrong equations ranks first, their share breaks ties. Default flag rule: any wrong equation (t = 0).
 * Measured (README.md, "For researchers"): on the 2,500-row GSM8K file it flags 8 clean rows (6 real mistakes, 2 unit
 * changes such as `$1 / 2 = 50 cents`), on the built-in `math` data none.
 * Source: vtune-bench (issue 15; in-place's header names "a checker of the task's semantics (a calculator…)"); the
 * annotation format is GSM8K's (Cobbe et al. 2021, arXiv 2110.14168: calculator annotations).
 */
import type { Row, RowScores } from '../../src/types.js';
import { defineScorer, z } from '../../src/plugins/define.js';
import { checkEquations, type EquationCheck } from '../../src/datasets/equations.js';
import { type RowScorer, flagByRule, flagRuleSchema } from './types.js';

const ID = 'arithmetic';

const OPTIONS = z.object({
  flag: flagRuleSchema.optional().describe('how scores become flags (default: score > 0, i.e. any row with a wrong equation)'),
});

/** The arithmetic scorer. */
export const arithmetic = defineScorer({
  id: ID,
  description: 'rows whose written equations are wrong (GSM8K <<a*b=c>> annotations and plain "a x b = c")',
  citation: 'GSM8K calculator annotations: Cobbe et al. 2021, arXiv 2110.14168',
  access: ['data'],
  yieldsSpans: false,
  options: OPTIONS,
  create,
});

/** Creates the scorer from validated options. */
function create(o: z.output<typeof OPTIONS>): RowScorer {
  const rule = o.flag ?? { kind: 'threshold' as const, t: 0 };
  const scorer: RowScorer = {
    id: ID,
    access: ['data'],
    yieldsSpans: false,
    async score(rows: readonly Row[]): Promise<RowScores> {
      const scores = rows.map((r) => arithmeticScore(checkEquations(r.completion)));
      return { scores, flagged: flagByRule(scores, rule) };
    },
  };
  return scorer;
}

/** The row score of a text's checked equations: w + w/n (w wrong of n), 0 when none is wrong. */
export function arithmeticScore(checks: readonly EquationCheck[]): number {
  const wrong = checks.filter((c) => !c.ok).length;
  return wrong === 0 ? 0 : wrong + wrong / checks.length;
}
