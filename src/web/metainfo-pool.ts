/**
 * Uploaded .torrent files are checked on a thread of their own (metainfo-worker.ts): decoding a
 * hostile file costs up to a second of CPU and a few hundred megabytes, which on the web thread
 * would stall every page for everyone. One worker takes the files in turn, so at most one file is
 * decoded at a time whatever the number of uploads; each file has a deadline, and a worker still
 * busy at a file's deadline is replaced.
 */
import { log } from "../log.ts";
import { workerUrl } from "../workers.ts";
import { MetainfoError, type ParsedTorrent, type ParseOptions } from "./metainfo.ts";

/** A file for the checker thread. */
export interface ParseRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly options: ParseOptions;
}

/** `ParsedTorrent` as it crosses threads: Buffers arrive as plain Uint8Arrays. */
type WireParsed = Omit<ParsedTorrent, "infoHash" | "infoHashV2" | "originalInfoHash" | "metainfo"> & {
  infoHash: Uint8Array;
  infoHashV2: Uint8Array | null;
  originalInfoHash: Uint8Array;
  metainfo: Uint8Array;
};

/** The checker thread's answer: the parsed torrent, or why not (`refused`: the file's fault). */
export type ParseReply =
  | { readonly id: number; readonly ok: true; readonly parsed: WireParsed }
  | { readonly id: number; readonly ok: false; readonly refused: boolean; readonly message: string };

/** Settings of a `MetainfoChecker`. */
export interface CheckerOptions {
  /**
   * Time from a file's arrival to its answer. Waiting included, it must stay under the web
   * server's 10 s idle timeout, or the uploader's connection is cut before any answer.
   */
  deadlineMs: number;
  /** Files waiting beyond the one being checked; more are refused as "busy". */
  maxWaiting: number;
}

const DEFAULTS: CheckerOptions = { deadlineMs: 8000, maxWaiting: 32 };

interface Job {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly options: ParseOptions;
  readonly resolve: (parsed: ParsedTorrent) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A worker thread that checks uploaded .torrent files one at a time, with a queue and deadlines. */
export class MetainfoChecker {
  private worker: Worker | null = null;
  private readonly waiting: Job[] = [];
  private running: Job | null = null;
  private nextId = 1;
  /** The settings; a change applies to files that arrive afterwards. */
  readonly settings: CheckerOptions;
  /** Files whose check has begun on the worker. */
  started = 0;
  /** Files answered (accepted, refused, or past their deadline). */
  finished = 0;

  constructor(settings: Partial<CheckerOptions> = {}) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  /** Whether a file is being checked right now. */
  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * `parseTorrent(bytes, options)` on the checker thread: the same result, or the same
   * MetainfoError for a file that is refused (also when the site is too busy to check it in time,
   * or checking takes past the deadline). `bytes` is moved to the worker when it spans its whole
   * buffer: do not use it afterwards.
   */
  parse(bytes: Uint8Array, options: ParseOptions): Promise<ParsedTorrent> {
    if (this.waiting.length >= this.settings.maxWaiting) {
      return Promise.reject(
        new MetainfoError("The site is checking many uploads at once: try again in a minute."),
      );
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => this.expire(id), this.settings.deadlineMs);
      this.waiting.push({ id, bytes, options, resolve, reject, timer });
      this.next();
    });
  }

  /** Stops the worker; files waiting or being checked are refused. */
  close(): void {
    const jobs = [...(this.running ? [this.running] : []), ...this.waiting.splice(0)];
    this.running = null;
    this.worker?.terminate();
    this.worker = null;
    for (const job of jobs) this.settle(job, new Error("the upload checker was stopped"));
  }

  private spawn(): Worker {
    const worker = new Worker(workerUrl("metainfo"));
    // An idle checker must not keep the process (or a test run) alive.
    (worker as Worker & { unref(): void }).unref();
    worker.onmessage = (event: MessageEvent<ParseReply>) => this.answered(worker, event.data);
    worker.onerror = (event) => {
      if (worker !== this.worker) return;
      log.error("the upload checker thread failed", { error: (event as ErrorEvent).message });
      this.replaceWorker();
      const job = this.running;
      this.running = null;
      if (job) this.settle(job, new Error(`the upload checker failed: ${(event as ErrorEvent).message}`));
      this.next();
    };
    return worker;
  }

  private next(): void {
    if (this.running || this.waiting.length === 0) return;
    const job = this.waiting.shift()!;
    this.running = job;
    this.started++;
    this.worker ??= this.spawn();
    const whole = job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength;
    const request: ParseRequest = { id: job.id, bytes: job.bytes, options: job.options };
    this.worker.postMessage(request, whole ? [job.bytes.buffer as ArrayBuffer] : []);
  }

  private answered(worker: Worker, reply: ParseReply): void {
    const job = this.running;
    if (worker !== this.worker || !job || job.id !== reply.id) return;
    this.running = null;
    if (reply.ok) {
      const p = reply.parsed;
      this.settle(job, {
        ...p,
        infoHash: buffer(p.infoHash),
        infoHashV2: p.infoHashV2 && buffer(p.infoHashV2),
        originalInfoHash: buffer(p.originalInfoHash),
        metainfo: buffer(p.metainfo),
      });
    } else if (reply.refused) {
      this.settle(job, new MetainfoError(reply.message));
    } else {
      log.error("the upload checker failed on a file", { error: reply.message });
      this.settle(job, new Error("the upload checker failed on this file"));
    }
    this.next();
  }

  private expire(id: number): void {
    const at = this.waiting.findIndex((job) => job.id === id);
    if (at >= 0) {
      const [job] = this.waiting.splice(at, 1);
      this.settle(
        job!,
        new MetainfoError("The site is checking many uploads at once: try again in a minute."),
      );
      return;
    }
    const job = this.running;
    if (!job || job.id !== id) return;
    // The worker cannot be interrupted mid-file; a new one takes the next file.
    this.replaceWorker();
    this.running = null;
    const seconds = this.settings.deadlineMs / 1000;
    this.settle(
      job,
      new MetainfoError(`Checking this file took longer than ${seconds} s: it is too complex.`),
    );
    this.next();
  }

  private replaceWorker(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private settle(job: Job, outcome: ParsedTorrent | Error): void {
    clearTimeout(job.timer);
    this.finished++;
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}

/** The checker the web side's uploads share. */
export const uploadChecker = new MetainfoChecker();

/**
 * Checks and rewrites an uploaded .torrent like `parseTorrent`, on the upload checker's thread.
 *
 * @throws MetainfoError with a message for the uploader when the file is refused.
 */
export function parseOffThread(bytes: Uint8Array, options: ParseOptions): Promise<ParsedTorrent> {
  return uploadChecker.parse(bytes, options);
}
