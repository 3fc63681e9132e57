// The image as operators run it: podman builds it from the Dockerfile (the `prebuilt` stage, on a
// Debian base made with debootstrap, since no registry can be reached), runs it with a volume for
// /data, waits for its HEALTHCHECK, registers the first account through the link it prints,
// uploads and announces, stops it with SIGTERM (exit 0), and finds the account again in a new
// container on the same volume. Skipped, with the reason printed, where podman cannot run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureBinary,
  freePorts,
  IN_CI,
  infoHash,
  makeTorrent,
  missingTools,
  ROOT,
  randomFile,
  Visitor,
  waitFor,
} from "../e2e/support.ts";
import { announceQuery } from "../helpers/announce.ts";
import { decodeStrict } from "../helpers/bdecode.ts";
import { describeUnless } from "../helpers/skip.ts";
import { BASE_IMAGE, type PodmanFlags, probePodman, run, runOk } from "./podman.ts";

const PASSWORD = "container horse battery";
const tag = `fw-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const IMAGE = `localhost/fairywren-test:${tag}`;
const VOLUME = `${tag}-data`;

const noClient = missingTools(["mktorrent"]).length > 0 && !IN_CI;
const probe = noClient ? { reason: "mktorrent is not installed" } : await probePodman();
const flags: PodmanFlags | null = "flags" in probe ? probe.flags : null;
const describeWithPodman = describeUnless(flags !== null, "reason" in probe ? probe.reason : "");

describeWithPodman("the container image", () => {
  const podman = (...args: string[]) => ["podman", ...flags!.global, ...args];
  const containers: string[] = [];
  let work = "";
  let web = "";
  let tracker = "";
  let ports: number[] = [];
  const started = Date.now();
  const timings: string[] = [];
  const mark = (what: string) => timings.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);

  /** Starts a container of the image on the volume; returns its name. */
  async function start(n: number): Promise<string> {
    const name = `${tag}-${n}`;
    const [webPort, trackerPort] = ports as [number, number];
    await runOk(
      podman(
        "run",
        "--detach",
        "--name",
        name,
        ...flags!.run,
        "--publish",
        `127.0.0.1:${webPort}:8080`,
        "--publish",
        `127.0.0.1:${trackerPort}:6969`,
        "--volume",
        `${VOLUME}:/data`,
        "--env",
        `FAIRYWREN_TRACKER_URL=${tracker}`,
        "--env",
        "FAIRYWREN_MIN_ANNOUNCE_INTERVAL=0",
        IMAGE,
      ),
    );
    containers.push(name);
    return name;
  }

  /** Runs the image's HEALTHCHECK until it passes, then reads the state podman recorded. */
  async function healthy(name: string): Promise<string> {
    await waitFor(
      `the health check of ${name}`,
      60_000,
      async () => {
        const state = (await runOk(podman("inspect", "--format", "{{.State.Status}}", name))).trim();
        if (state !== "running")
          throw new Error(`the container is ${state}: ${(await logs(name)).slice(-2000)}`);
        return (await run(podman("healthcheck", "run", name))).code === 0;
      },
      500,
    );
    return (await runOk(podman("inspect", "--format", "{{.State.Health.Status}}", name))).trim();
  }

  async function logs(name: string): Promise<string> {
    const result = await run(podman("logs", name));
    return result.out + result.err;
  }

  /** Stops with the image's STOPSIGNAL (SIGTERM) and returns the exit code. */
  async function stop(name: string): Promise<number> {
    await runOk(podman("stop", "--time", "15", name));
    return Number((await runOk(podman("inspect", "--format", "{{.State.ExitCode}}", name))).trim());
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "fw-container-"));
    ports = await freePorts(2);
    web = `http://127.0.0.1:${ports[0]}`;
    tracker = `http://127.0.0.1:${ports[1]}`;
    await ensureBinary();
    mark("binary ready");
    await runOk(
      podman(
        "build",
        ...flags!.build,
        // HEALTHCHECK is part of the Docker image format only; podman's default (OCI) drops it.
        "--format",
        "docker",
        "--build-arg",
        `BASE=${BASE_IMAGE}`,
        "--target",
        "prebuilt",
        "--tag",
        IMAGE,
        ROOT,
      ),
    );
    mark("image built");
    await runOk(podman("volume", "create", VOLUME));
  }, 240_000);

  afterAll(async () => {
    for (const name of containers) await run(podman("rm", "--force", name));
    await run(podman("volume", "rm", "--force", VOLUME));
    await run(podman("rmi", "--force", IMAGE));
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`container test: ${timings.join(", ")}`);
  }, 60_000);

  test("the image declares its health check, volume and ports", async () => {
    const [image] = JSON.parse(await runOk(podman("image", "inspect", IMAGE)));
    const config = image.Config;
    expect(image.Healthcheck?.Test).toEqual(["CMD", "/usr/local/bin/fairywren", "health"]);
    expect(Object.keys(config.Volumes ?? {})).toEqual(["/data"]);
    expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(["6969/tcp", "8080/tcp", "9669/tcp"]);
    expect(config.User).toBe("fairywren");
    expect(config.StopSignal).toBe("SIGTERM");
  });

  test("runs, turns healthy, registers the first account, takes an upload and an announce, stops with 0", async () => {
    const name = await start(1);
    expect(await healthy(name)).toBe("healthy");
    mark("healthy");
    // The metrics address listens on every interface inside, so /readyz is reachable from outside.
    const inside = await runOk(podman("exec", name, "/usr/local/bin/fairywren", "health"));
    expect(JSON.parse(inside)).toEqual({ status: "ready" });

    const link = await waitFor(
      "the first-account link in the log",
      10_000,
      async () => (await logs(name)).match(/http:\/\/localhost:8080(\/register\/[A-Za-z0-9_-]+)/)?.[1],
    );
    const admin = new Visitor(web, PASSWORD);
    const registered = await admin.request(link, {
      body: new URLSearchParams({ name: "operator", password: PASSWORD, confirm: PASSWORD }),
    });
    expect(registered.status).toBe(303);

    randomFile(join(work, "payload.bin"), 256 * 1024);
    const made = await makeTorrent(
      join(work, "payload.bin"),
      `${tracker}/announce`,
      join(work, "made.torrent"),
    );
    const form = new FormData();
    form.set("file", new File([made], "payload.torrent", { type: "application/x-bittorrent" }));
    form.set("title", "Container payload");
    form.set("_csrf", await admin.csrf());
    const upload = await admin.request("/upload", { body: form });
    expect(upload.status).toBe(303);
    const id = Number(upload.headers.get("location")?.match(/^\/torrents\/(\d+)/)?.[1]);
    const download = await admin.request(`/torrents/${id}/download`);
    expect(download.status).toBe(200);
    const personal = new Uint8Array(await download.arrayBuffer());
    writeFileSync(join(work, "personal.torrent"), personal);
    const announceUrl = Buffer.from(
      (decodeStrict(personal) as Map<string, unknown>).get("announce") as Uint8Array,
    ).toString();
    expect(announceUrl).toMatch(new RegExp(`^${tracker}/[0-9a-f]{32}/announce$`));

    const query = announceQuery({
      infoHash: infoHash(personal),
      peerId: new TextEncoder().encode("-XX0001-container-01"),
      left: 0,
      event: "started",
      compact: 1,
    });
    const reply = decodeStrict(
      new Uint8Array(await (await fetch(`${announceUrl}?${query}`)).arrayBuffer()),
    ) as Map<string, unknown>;
    expect(reply.get("failure reason")).toBeUndefined();
    expect(reply.get("complete")).toBe(1);
    await waitFor("the torrent page to show the seeder", 5_000, async () =>
      /data-count="seeders">\s*1\s*</.test(await admin.page(`/torrents/${id}`)),
    );
    mark("registered, uploaded, announced");

    expect(await stop(name)).toBe(0);
    expect(await logs(name)).toContain('"msg":"stopped"');
    mark("stopped");
  }, 120_000);

  test("a new container on the same volume keeps the account and the torrent", async () => {
    const name = await start(2);
    expect(await healthy(name)).toBe("healthy");
    // Members exist: no first-account link this time.
    expect(await logs(name)).not.toContain("/register/");
    const admin = new Visitor(web, PASSWORD);
    await admin.login("operator");
    expect(await admin.page("/torrents")).toContain("Container payload");
    expect(await stop(name)).toBe(0);
    mark("restarted on the volume");
  }, 90_000);
});
