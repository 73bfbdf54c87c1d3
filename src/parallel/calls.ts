/**
 * A detection's side of one worker: the calls sent to it and not yet
 * answered, matched to the replies by id. Shared by ParallelDetector
 * (worker threads) and WebParallelDetector (Web Workers), which only say how
 * a message is posted and when the worker's replies and failures arrive.
 *
 * Once the worker is gone (it failed to start, died, or the detector was
 * closed) every call in flight and every later call is rejected with the
 * reason: a call never waits for a worker that cannot answer.
 * Runtime-neutral.
 * @module
 */
import { jobError, type CropJob, type CropScores, type Job, type JobResult, type ProposeJob, type Proposals, type Reply } from './jobs.ts';

type Pending = { resolve: (r: JobResult) => void; reject: (e: Error) => void };

export class Calls {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private readonly who: string;
  private readonly post: (message: { id: number; job: Job }) => void;
  private readonly busy: (busy: boolean) => void;

  /**
   * @param who the detector's name, for error messages
   * @param post sends `{ id, job }` to the worker
   * @param busy told true when a call goes out with none in flight, false when the last one is settled
   */
  constructor(who: string, post: (message: { id: number; job: Job }) => void, busy: (busy: boolean) => void = () => {}) {
    this.who = who;
    this.post = post;
    this.busy = busy;
  }

  call(job: ProposeJob): Promise<Proposals>;
  call(job: CropJob): Promise<CropScores>;
  call(job: Job): Promise<JobResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.busy(true);
      this.pending.set(id, { resolve, reject });
      try {
        this.post({ id, job });
      } catch (e) {
        this.take(id);
        reject(e);
      }
    });
  }

  /** A reply from the worker. */
  settle(reply: Reply): void {
    const call = this.take(reply.id);
    if (call === undefined) return;
    if (reply.error === undefined) call.resolve(reply.result);
    else call.reject(jobError(reply.error, this.who));
  }

  /** The worker is gone: the calls in flight, and every later one, fail with `reason` (the first reason given). */
  fail(reason: Error): void {
    this.failure ??= reason;
    const calls = [...this.pending.values()];
    this.pending.clear();
    if (calls.length > 0) this.busy(false);
    for (const call of calls) call.reject(this.failure);
  }

  private take(id: number): Pending | undefined {
    const call = this.pending.get(id);
    if (call === undefined) return undefined;
    this.pending.delete(id);
    if (this.pending.size === 0) this.busy(false);
    return call;
  }
}
