// Worker bootstrap: under tsx (sources run as .ts) the worker thread needs tsx's loader registered before it
// can import the TypeScript worker module; compiled builds import the .js entry directly.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
