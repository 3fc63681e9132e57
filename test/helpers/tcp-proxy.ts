import { connect, createServer, type Server, type Socket } from "node:net";

/** One forwarded connection: what each side sent while the network was silent waits here. */
interface Pair {
  client: Socket;
  upstream: Socket | null;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP forwarder on loopback that can be taken down and brought back. `down()`: new connections
 * are refused and open ones are cut, what a stopped or unreachable server looks like.
 * `blackhole()`: connections stay open and new ones are accepted, but nothing gets through in
 * either direction, what a server or network that stops answering without resetting anything
 * looks like; `up()` then delivers what was held, as TCP would once the network heals.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts (or restarts, on the same port) forwarding; after `blackhole()`, delivers what was held. */
  async up(): Promise<void> {
    this.silent = false;
    for (const pair of this.pairs) this.flush(pair);
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses new connections and cuts every open one. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.silent = false;
    for (const pair of this.pairs) this.close(pair);
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Keeps every connection open and accepts new ones, but forwards nothing until `up()`. */
  blackhole(): void {
    this.silent = true;
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: null, toUpstream: [], toClient: [] };
    this.pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      if (this.silent || !pair.upstream) pair.toUpstream.push(chunk);
      else pair.upstream.write(chunk);
    });
    client.on("error", () => this.close(pair));
    client.on("close", () => this.close(pair));
    // A connection made while silent reaches the server only once the network is back.
    if (!this.silent) this.flush(pair);
  }

  private flush(pair: Pair): void {
    if (!this.pairs.has(pair)) return;
    if (!pair.upstream) {
      const upstream = connect(this.targetPort, this.targetHost);
      pair.upstream = upstream;
      upstream.on("data", (chunk: Buffer) => {
        if (this.silent) pair.toClient.push(chunk);
        else pair.client.write(chunk);
      });
      upstream.on("error", () => this.close(pair));
      upstream.on("close", () => this.close(pair));
    }
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
  }

  private close(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
