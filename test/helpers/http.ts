import { request } from "node:http";

/** An answer read off a real socket. */
export interface HttpReply {
  status: number;
  headers: Headers;
  body: string;
}

/** A request as it goes over the wire: method, headers, body, and the local address to send from. */
export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /**
   * The loopback address to connect from (any of 127.0.0.0/8 on Linux), so that tests can stand
   * for visitors at different addresses.
   */
  from?: string;
  /** A form body (sent as application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  json?: unknown;
}

/** One HTTP/1.1 request over a real socket (no redirect followed, no connection reused). */
export function http(url: string, init: HttpInit = {}): Promise<HttpReply> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.form) {
    body = new URLSearchParams(init.form).toString();
    headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        localAddress: init.from,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            for (const one of Array.isArray(value) ? value : [value ?? ""]) out.append(name, one);
          resolve({
            status: res.statusCode ?? 0,
            headers: out,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The `name=value` of the session cookie an answer sets. */
export function sessionCookieOf(reply: HttpReply): string {
  const setCookie = reply.headers.get("set-cookie");
  if (!setCookie) throw new Error(`no cookie set (HTTP ${reply.status}): ${reply.body.slice(0, 200)}`);
  return setCookie.split(";")[0]!;
}
