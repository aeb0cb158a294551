/**
 * Every CLI command, one module each, loaded lazily: running one command imports only its own module (and its
 * dependencies), so `plant`/`verify`/`serve` do not pay for the report and engine stacks at start-up.
 * Owners add one line here: `name: () => import('./file.js').then((m) => m.exportName)`.
 */
import type { CliCommand } from './types.js';

export const commandLoaders = {
  run: () => import('./run.js').then((m) => m.runCommand),
  report: () => import('./report.js').then((m) => m.reportCommand),
  merge: () => import('./merge.js').then((m) => m.mergeCommand),
  datasets: () => import('./datasets.js').then((m) => m.datasetsCommand),
  plant: () => import('./plant.js').then((m) => m.plantCommand),
  verify: () => import('./verify.js').then((m) => m.verifyCommand),
  list: () => import('./list.js').then((m) => m.listCommand),
  detectors: () => import('./detectors.js').then((m) => m.detectorsCommand),
  serve: () => import('./serve.js').then((m) => m.serveCommand),
  pretrain: () => import('./pretrain.js').then((m) => m.pretrainCommand),
  calibrate: () => import('./calibrate.js').then((m) => m.calibrateCommand),
  worker: () => import('./worker.js').then((m) => m.workerCommand),
  check: () => import('./check.js').then((m) => m.checkCommand),
} satisfies Record<string, () => Promise<CliCommand>>;

/** The commands to register for this invocation: only the named one when it exists, else all (for help). */
export async function loadCommands(argv: readonly string[]): Promise<CliCommand[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && Object.prototype.hasOwnProperty.call(commandLoaders, first)) {
    return [await commandLoaders[first as keyof typeof commandLoaders]()];
  }
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}
