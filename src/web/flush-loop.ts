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
