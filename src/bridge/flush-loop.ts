/**
 * The timer and single-flight flush of a queue written to the database: `flush()` starts one run
 * of `write` or joins the one going on, the timer flushes every `intervalMs`, and `last()` stops
 * the timer and makes one last attempt after the run in progress.
 */
export class FlushLoop {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** Flushes every interval from now on. */
  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is queued; a call during a run waits for that run. */
  flush(): Promise<void> {
    this.running ??= this.write().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timer, lets the run in progress end, and flushes once more. */
  async last(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.flush();
  }
}

/** What a {@link BatchQueue} does with its batches. */
export interface BatchQueueOptions<B, R> {
  readonly intervalMs: number;
  /** Most rows kept waiting before the oldest batch is dropped (the newest batch always stays). */
  readonly limit: number;
  /** Rows in a batch, for the limit and the metrics. */
  rows(batch: B): number;
  /** Writes one batch; throws when it was not written. */
  write(batch: B): Promise<R>;
  /**
   * After a failed write: true keeps the batch at the head of the queue and ends this run (it is
   * tried again, as it is, at the next one); false drops it and goes on with the next.
   */
  retry(error: unknown, batch: B): boolean;
  /** A batch left the queue: written (with what `write` returned) or refused (`result` undefined). */
  done?(batch: B, result: R | undefined): void;
  /** A batch was dropped to keep within `limit`, unwritten. */
  dropped(batch: B): void;
  /** A run ended with nothing left to write. */
  drained?(): void;
}

/**
 * Batches written to the database in the order they came, one at a time, by a {@link FlushLoop}:
 * the credit and the suspicious transfers both go this way. Batches are never merged, so a batch
 * retried after a failure keeps its identity (and its sequence number) and is applied once.
 */
export class BatchQueue<B, R = void> {
  private readonly queue: B[] = [];
  private queued = 0;
  private readonly loop: FlushLoop;

  constructor(private readonly options: BatchQueueOptions<B, R>) {
    this.loop = new FlushLoop(() => this.drain(), options.intervalMs);
  }

  /** Queues a batch behind the others; drops the oldest while over the limit. */
  push(batch: B): void {
    this.queue.push(batch);
    this.queued += this.options.rows(batch);
    while (this.queued > this.options.limit && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queued -= this.options.rows(dropped);
      this.options.dropped(dropped);
    }
  }

  /** The batches waiting, oldest first. */
  get batches(): readonly B[] {
    return this.queue;
  }

  /** Rows waiting. */
  get rows(): number {
    return this.queued;
  }

  /** Writes every interval from now on. */
  start(): void {
    this.loop.start();
  }

  /** Writes everything queued; a call during a run waits for that run. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  /** Stops the timer, lets the run in progress end, and writes once more. */
  last(): Promise<void> {
    return this.loop.last();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue[0]!;
      let result: R | undefined;
      try {
        result = await this.options.write(batch);
      } catch (error) {
        if (this.options.retry(error, batch)) return;
      }
      this.queue.shift();
      this.queued -= this.options.rows(batch);
      this.options.done?.(batch, result);
    }
    this.options.drained?.();
  }
}
