/**
 * Every Worker thread's entry point, relative to this folder (src/). scripts/build.ts embeds each
 * one in the compiled binary, which cannot start a worker it does not carry.
 */
export const WORKER_ENTRY_POINTS = {
  tracker: "./tracker/worker.ts",
  metainfo: "./web/metainfo-worker.ts",
} as const;

/** The URL to start the named worker from, from source and in the compiled binary alike. */
export function workerUrl(name: keyof typeof WORKER_ENTRY_POINTS): string {
  // From source, import.meta.url is this file's own, in src/. In the compiled binary every module
  // reports the bundle's URL, at the root of the embedded files, which is where the build puts
  // what was in src/. So the entry point is found relative to src/ either way, but only from a
  // module that lives in src/ itself: that is why this file is here.
  return new URL(WORKER_ENTRY_POINTS[name], import.meta.url).href;
}
