/**
 * The pipeline API the runner codes against (notes/pipeline-api.md), re-exported from src/pipeline/cell.ts
 * so the runner, its tests and the fake pipeline in test/ all type-check against the one real contract.
 */
import type { CellDeps, CellOutcome, CellSpec } from '../pipeline/cell.js';

export type { CellDeps, CellOutcome, CellSpec, TrainCache } from '../pipeline/cell.js';

/** Runs one cell end to end (src/pipeline/cell.ts runCell). */
export type RunCell = (spec: CellSpec, deps: CellDeps) => Promise<CellOutcome>;
/** The stable key of a cell (src/pipeline/cell.ts cellKey). */
export type CellKeyFn = (spec: Omit<CellSpec, 'key'>) => string;
