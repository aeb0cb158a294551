/** The clock the pipeline times its stages with; tests pass their own (a leaf module). */
export interface Clock {
  /** Milliseconds from an arbitrary origin, monotonic. */
  now(): number;
}

/** The process's monotonic clock (performance.now). */
export const systemClock: Clock = { now: () => performance.now() };
