/**
 * Rows that do not fit a trainer's context (issue 15): how a provider reports them (RowFit, src/types.ts) and
 * the one warning text every part prints for them, so that the provider's live message, the run's log and
 * the trial record say the same thing whether the fine-tune ran now or came from the training cache.
 */
import type { RowFit } from '../types.js';

/** At most this many row numbers are listed in a message; the rest are counted. */
const LISTED = 8;

/** Row numbers (0-based, as `#i`), the first LISTED of them, then "and N more". */
function listRows(rows: readonly number[]): string {
  const shown = rows.slice(0, LISTED).map((r) => `#${r}`).join(', ');
  return rows.length > LISTED ? `${shown} and ${rows.length - LISTED} more` : shown;
}

/**
 * The warning for rows that did not fit whole into a context of `contextLength` tokens, or undefined when
 * every row fit. Names the rows (by index in the training request): those whose prompt start was cut, and
 * those left out because their completion alone does not fit.
 */
export function describeRowFits(fits: readonly RowFit[], rowCount: number, contextLength?: number): string | undefined {
  const context = contextLength === undefined ? 'the context' : `the context (${contextLength} tokens)`;
  const cut = fits.filter((f) => !f.refused).map((f) => f.row);
  const refused = fits.filter((f) => f.refused).map((f) => f.row);
  const parts: string[] = [];
  if (cut.length > 0) parts.push(`${cut.length} of ${rowCount} rows longer than ${context} lost the start of their prompt (${listRows(cut)}); their completions were trained whole`);
  if (refused.length > 0) parts.push(`${refused.length} of ${rowCount} rows were left out of training because their completion alone does not fit ${context} (${listRows(refused)})`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}
