/**
 * What a contract rule answers (src/check): which plugin, which rule, passed / failed / skipped, and why. The
 * vitest contract suites assert on these; `vtune-bench check <module>` prints them.
 */

/** The plugin kinds the contract rules cover (the kinds a module from outside the repository may add). */
export type CheckedKind = 'generator' | 'attack' | 'scorer';

/**
 * The rules, one name each, so a failure says which promise a plugin broke:
 * - `declares`: id, goal/access/null modes and option validation are as the kind's interface says;
 * - `purity`: hooks (and draws, and scores) never mutate their inputs (inputs are deep-frozen and compared);
 * - `seeding`: the same seed gives the same output, randomness only from the seeded stream (no Math.random),
 *   and (generators) a different seed gives a different draw;
 * - `barrier`: the information barrier: nothing the provider side receives leads to the secret, the backdoor
 *   list, the mask (oracles: the mask only) or the generator;
 * - `trace`: the ground truth the pipeline MEASURED agrees with what the attack declares it does;
 * - `shape`: a scorer's answer has one score and flag per row; a generator's draws are plain text;
 * - `bound`: a generator states a bound exactly for the null modes it claims.
 */
export type RuleName = 'declares' | 'purity' | 'seeding' | 'barrier' | 'trace' | 'shape' | 'bound';

/** One rule's verdict on one plugin. */
export interface RuleResult {
  readonly kind: CheckedKind;
  readonly plugin: string;
  readonly rule: RuleName;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What failed (or why skipped); for a pass, what was checked. */
  readonly detail: string;
}

/** Collects rule verdicts for one plugin. */
export class Verdicts {
  readonly results: RuleResult[] = [];
  constructor(
    readonly kind: CheckedKind,
    readonly plugin: string,
  ) {}
  pass(rule: RuleName, detail: string): void {
    this.results.push({ kind: this.kind, plugin: this.plugin, rule, status: 'pass', detail });
  }
  fail(rule: RuleName, detail: string): void {
    this.results.push({ kind: this.kind, plugin: this.plugin, rule, status: 'fail', detail });
  }
  skip(rule: RuleName, detail: string): void {
    this.results.push({ kind: this.kind, plugin: this.plugin, rule, status: 'skip', detail });
  }
  /** Records `rule` as passed when `problems` is empty, else failed with the problems. */
  judge(rule: RuleName, problems: readonly string[], passed: string): void {
    if (problems.length === 0) this.pass(rule, passed);
    else this.fail(rule, problems.join('; '));
  }
  /** Adds the verdict for `rule` unless one was already recorded (a rule decided earlier, e.g. by a crash). */
  has(rule: RuleName): boolean {
    return this.results.some((r) => r.rule === rule);
  }
}

/** The failed results, as one line each: "attack 'x': purity: onData wrote to rows[3].completion". */
export function describeFailures(results: readonly RuleResult[]): string[] {
  return results.filter((r) => r.status === 'fail').map((r) => `${r.kind} '${r.plugin}': ${r.rule}: ${r.detail}`);
}
