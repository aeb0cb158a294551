/**
 * The job queue of `serve`: one fine-tune at a time (the embedded engine already uses every core), state
 * persisted at every transition, events appended as training reports progress, cancellation through an
 * AbortController. On start-up, jobs a previous process left unfinished are resumed from the start (training
 * is deterministic given the job seed) or, with `onRestart: 'fail'`, ended `failed` with the reason.
 * A finished job's model is re-opened from its own artifacts, never from the training file; a job whose
 * training file was deleted before it ran fails with `file_not_found`.
 */
import { InputError, describeError } from '../errors.js';
import type { HyperParams, Logger, Model } from '../types.js';
import type { JobRecord, Store } from './store.js';
import type { ServeTrainer } from './trainer.js';
import { parseTrainingJsonl } from './wire.js';

/** Options of the job queue. */
export interface JobQueueOptions {
  readonly store: Store;
  readonly trainer: ServeTrainer;
  /** Hyper-parameters used when a job does not set them; learning_rate_multiplier scales learningRate. */
  readonly defaults: HyperParams;
  readonly onRestart: 'resume' | 'fail';
  readonly log: Logger;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Runs jobs in order and keeps the fine-tuned models. */
export class JobQueue {
  private readonly pending: string[] = [];
  private readonly controllers = new Map<string, AbortController>();
  private readonly models = new Map<string, Promise<Model>>();
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: JobQueueOptions) {}

  /** Re-queues (or fails) jobs left unfinished by a previous process. Call once at start-up. */
  recover(): void {
    for (const job of this.o.store.listJobs().reverse()) {
      if (TERMINAL.has(job.status)) continue;
      if (this.o.onRestart === 'fail') {
        this.finish(job, 'failed', { code: 'server_restart', message: 'the server restarted while this job was running; submit it again', param: null });
      } else {
        job.status = 'queued';
        this.o.store.putJob(job);
        this.o.store.addEvent(job.id, { level: 'warn', message: 'Server restarted: the job starts again from the beginning', type: 'message', data: null });
        this.enqueue(job.id);
      }
    }
  }

  /** Adds a persisted job to the queue. */
  enqueue(jobId: string): void {
    this.pending.push(jobId);
    // A failing disk or a corrupt record must not become an unhandled rejection (it would end the process).
    this.running ??= this.drain()
      .catch((err: unknown) => this.o.log.warn(`job queue: ${describeError(err)}`))
      .finally(() => (this.running = undefined));
  }

  /** Cancels a job: queued jobs end at once, a running one when its trainer notices the abort. */
  cancel(job: JobRecord): JobRecord {
    if (TERMINAL.has(job.status)) return job;
    const ctl = this.controllers.get(job.id);
    if (ctl) ctl.abort(new Error('cancelled by the user'));
    const i = this.pending.indexOf(job.id);
    if (i >= 0) this.pending.splice(i, 1);
    return this.finish(job, 'cancelled', null);
  }

  /** The model of a succeeded job (re-opened from its artifacts after a restart). */
  model(job: JobRecord): Promise<Model> {
    let m = this.models.get(job.id);
    if (!m) {
      m = this.o.trainer.restore(this.o.store.modelDir(job.id));
      m.catch(() => this.models.delete(job.id));
      this.models.set(job.id, m);
    }
    return m;
  }

  /** Stops accepting work, aborts the running job (it stays resumable on disk) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.length = 0;
    for (const c of this.controllers.values()) c.abort(new Error('server shutting down'));
    await this.running?.catch(() => {});
  }

  /** Hyper-parameters of a job (defaults overridden by the job's). */
  hyper(job: JobRecord): HyperParams {
    const h = job.hyperparameters;
    return { ...this.o.defaults, epochs: h.n_epochs, batchSize: h.batch_size, learningRate: this.o.defaults.learningRate * h.learning_rate_multiplier };
  }

  private input(job: JobRecord, signal?: AbortSignal) {
    if (!this.o.store.hasFileContent(job.training_file)) throw new MissingTrainingFile(job.training_file);
    const rows = parseTrainingJsonl(this.o.store.fileContent(job.training_file).toString('utf8'));
    return {
      rows,
      hyper: this.hyper(job),
      seed: job.seed,
      artifactDir: this.o.store.modelDir(job.id),
      ...(signal ? { signal } : {}),
      onProgress: (p: { done: number; total?: number; loss?: number; message?: string }) => {
        if (p.loss !== undefined) {
          this.o.store.addEvent(job.id, {
            level: 'info',
            message: `Step ${p.done}${p.total ? `/${p.total}` : ''}: training loss=${p.loss.toFixed(4)}`,
            type: 'metrics',
            data: { step: p.done, train_loss: p.loss, ...(p.total ? { total_steps: p.total } : {}) },
          });
        } else if (p.message) {
          this.o.store.addEvent(job.id, { level: 'info', message: p.message, type: 'message', data: null });
        }
      },
    };
  }

  private async drain(): Promise<void> {
    while (this.pending.length && !this.closed) {
      const id = this.pending.shift()!;
      const job = this.o.store.getJob(id);
      if (!job || TERMINAL.has(job.status)) continue;
      await this.runJob(job);
    }
  }

  private async runJob(job: JobRecord): Promise<void> {
    const ctl = new AbortController();
    this.controllers.set(job.id, ctl);
    job.status = 'running';
    job.attempts = (job.attempts ?? 0) + 1;
    this.o.store.putJob(job);
    this.o.store.addEvent(job.id, { level: 'info', message: 'Fine-tuning job started', type: 'message', data: null });
    try {
      const out = await this.o.trainer.train(this.input(job, ctl.signal));
      if (ctl.signal.aborted) throw ctl.signal.reason;
      const fresh = this.o.store.getJob(job.id) ?? job;
      if (fresh.status === 'cancelled') return;
      fresh.fine_tuned_model = `ft:${fresh.model}:${fresh.suffix ?? 'serve'}:${fresh.id.slice(-8)}`;
      fresh.trained_tokens = out.tokensTrained;
      fresh.steps_run = out.stepsRun;
      if (out.finalLoss !== undefined) fresh.final_loss = out.finalLoss;
      this.models.set(fresh.id, Promise.resolve(out.model));
      this.o.store.addEvent(job.id, { level: 'info', message: `New fine-tuned model created: ${fresh.fine_tuned_model}`, type: 'message', data: null });
      this.finish(fresh, 'succeeded', null);
    } catch (err) {
      if (this.closed) return; // shutting down: the job stays `running` on disk and is recovered on restart
      const fresh = this.o.store.getJob(job.id) ?? job;
      if (fresh.status === 'cancelled') return;
      const message = this.o.store.scrub(describeError(err));
      this.o.log.warn(`job ${job.id} failed: ${message}`);
      const missing = err instanceof MissingTrainingFile;
      this.finish(fresh, 'failed', { code: missing ? 'file_not_found' : 'training_failed', message, param: missing ? 'training_file' : null });
    } finally {
      this.controllers.delete(job.id);
    }
  }

  private finish(job: JobRecord, status: 'succeeded' | 'failed' | 'cancelled', error: JobRecord['error']): JobRecord {
    job.status = status;
    job.error = error;
    job.finished_at = Math.floor(Date.now() / 1000);
    this.o.store.putJob(job);
    const message = status === 'succeeded' ? 'The job has successfully completed' : status === 'cancelled' ? 'The job was cancelled' : `The job failed: ${error?.message ?? 'unknown error'}`;
    this.o.store.addEvent(job.id, { level: status === 'failed' ? 'error' : 'info', message, type: 'message', data: null });
    return job;
  }
}

/** The training file of a job was deleted before the job could read it. */
class MissingTrainingFile extends InputError {
  constructor(fileId: string) {
    super(`training file '${fileId}' was deleted before the job could read it: upload it again and create a new job`);
  }
}
