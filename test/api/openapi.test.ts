import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { compileErrors, validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020.js";
import { type ApiHarness, apiHarness, expectError, expectJson } from "../helpers/api.ts";

interface Doc {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { securitySchemes: Record<string, unknown> };
  tags: { name: string; description: string }[];
}

let api: ApiHarness;
let doc: Doc;

/** Every API route the app serves (except the document and the docs page), as "METHOD /path/{param}". */
function apiRoutes(): string[] {
  return api.app.routes
    .filter(
      (r) => r.path.startsWith("/api/v1/") && !["/api/v1/openapi.json", "/api/v1/docs"].includes(r.path),
    )
    .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([^/]+)/g, "{$1}")}`)
    .sort();
}

beforeAll(async () => {
  api = await apiHarness();
  const response = await api.call("/api/v1/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("application/json");
  // Under the API's rate limit like every other route.
  expect(response.headers.get("ratelimit-limit")).toBe("60");
  doc = JSON.parse(await response.text()) as Doc;
}, 180000);
afterAll(async () => {
  await api?.close();
});

describe("the OpenAPI document", () => {
  test("is OpenAPI 3.x JSON", () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBe("Fairywren API");
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["bearerToken", "sessionCookie"]);
  });

  test("lists every /api/v1 route the app serves, and nothing else", () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = apiRoutes();
    expect(served.length).toBeGreaterThanOrEqual(22);
    expect(documented).toEqual(served);
  });

  test("the endpoints of the issue are all there", () => {
    const served = new Set(apiRoutes());
    for (const route of [
      "POST /api/v1/session",
      "DELETE /api/v1/session",
      "GET /api/v1/me",
      "GET /api/v1/users/{id}",
      "POST /api/v1/users",
      "PUT /api/v1/users/{id}/password",
      "GET /api/v1/users/{id}/roles",
      "PUT /api/v1/users/{id}/roles/{role}",
      "DELETE /api/v1/users/{id}/roles/{role}",
      "POST /api/v1/users/{id}/disable",
      "POST /api/v1/users/{id}/enable",
      "POST /api/v1/invites",
      "GET /api/v1/invites",
      "GET /api/v1/invites/{invite}",
      "POST /api/v1/invites/{invite}/claim",
      "DELETE /api/v1/invites/{invite}",
      "GET /api/v1/torrents",
      "GET /api/v1/torrents/{id}",
      "POST /api/v1/torrents",
      "PATCH /api/v1/torrents/{id}",
      "DELETE /api/v1/torrents/{id}",
      "GET /api/v1/torrents/{id}/download",
      "GET /api/v1/counts",
      "GET /api/v1/torrents/{id}/counts",
      "GET /api/v1/categories",
      "POST /api/v1/categories",
      "PATCH /api/v1/categories/{id}",
      "DELETE /api/v1/categories/{id}",
      "GET /api/v1/tags",
      "GET /api/v1/torrents/{id}/comments",
      "POST /api/v1/torrents/{id}/comments",
      "PATCH /api/v1/comments/{id}",
      "DELETE /api/v1/comments/{id}",
      "GET /api/v1/me/new-comments",
      "POST /api/v1/preview",
      "GET /api/v1/users/{id}/profile",
      "PATCH /api/v1/users/{id}/profile",
      "GET /api/v1/users/{id}/plot",
      "GET /api/v1/torrents/{id}/plot",
      "GET /api/v1/news",
      "POST /api/v1/news",
      "GET /api/v1/news/{id}",
      "PATCH /api/v1/news/{id}",
      "DELETE /api/v1/news/{id}",
      "GET /api/v1/stats",
      "GET /api/v1/stats/plot",
      "GET /api/v1/home",
      "GET /api/v1/requests",
      "POST /api/v1/requests",
      "GET /api/v1/requests/{id}",
      "POST /api/v1/requests/{id}/bounty",
      "POST /api/v1/requests/{id}/fill",
      "POST /api/v1/requests/{id}/accept",
      "POST /api/v1/requests/{id}/reject",
      "GET /api/v1/bookmarks",
      "PUT /api/v1/bookmarks/{id}",
      "DELETE /api/v1/bookmarks/{id}",
      "GET /api/v1/moderation",
      "POST /api/v1/torrents/{id}/moderation",
      "POST /api/v1/reports",
      "GET /api/v1/reports",
      "GET /api/v1/staff/reports",
      "POST /api/v1/reports/{id}/action",
      "GET /api/v1/users/{id}/warnings",
      "POST /api/v1/users/{id}/warnings",
      "POST /api/v1/warnings/{id}/lift",
      "GET /api/v1/staff-log",
      "GET /api/v1/invite-tree",
      "POST /api/v1/users/{id}/invites/revoke",
      "POST /api/v1/users/{id}/reset-link",
      "POST /api/v1/password-reset",
      "PUT /api/v1/users/{id}/email",
    ])
      expect(served.has(route)).toBe(true);
  });

  test("the staff routes' bodies describe every field and give an example", () => {
    for (const [path, method] of [
      ["/api/v1/torrents/{id}/moderation", "post"],
      ["/api/v1/reports", "post"],
      ["/api/v1/reports/{id}/action", "post"],
      ["/api/v1/users/{id}/warnings", "post"],
    ] as const) {
      const op = doc.paths[path]![method]! as {
        requestBody: {
          content: Record<
            string,
            { schema: { properties: Record<string, { description?: string }>; examples?: unknown[] } }
          >;
        };
      };
      const schema = op.requestBody.content["application/json"]!.schema;
      for (const [field, property] of Object.entries(schema.properties))
        expect({ path, field, described: typeof property.description }).toEqual({
          path,
          field,
          described: "string",
        });
      expect({ path, examples: (schema.examples ?? []).length > 0 }).toEqual({ path, examples: true });
    }
  });

  test("every operation has a tag, a summary, its path parameters and documented error responses", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as [string, Record<string, unknown>][]) {
        const where = `${method} ${path}`;
        expect({ where, tags: (op.tags as string[] | undefined)?.length }).toEqual({ where, tags: 1 });
        expect({ where, summary: typeof op.summary }).toEqual({ where, summary: "string" });
        const params = ((op.parameters as { name: string; in: string }[] | undefined) ?? [])
          .filter((p) => p.in === "path")
          .map((p) => p.name)
          .sort();
        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
        expect({ where, params }).toEqual({ where, params: inPath });
        const responses = op.responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
        expect(Object.keys(responses).some((s) => s.startsWith("2"))).toBe(true);
        expect(Object.keys(responses)).toContain("429");
        const error = responses["429"]!.content!["application/json"]!.schema as {
          properties: { error: { properties: Record<string, unknown>; required: string[] } };
        };
        expect(Object.keys(error.properties.error.properties).sort()).toEqual(["code", "fields", "message"]);
        expect(error.properties.error.required.sort()).toEqual(["code", "message"]);
      }
    }
  });

  test("query parameters and the upload body are described", () => {
    const list = doc.paths["/api/v1/torrents"]!.get! as {
      parameters: { name: string; schema: Record<string, unknown> }[];
    };
    expect(list.parameters.map((p) => p.name).sort()).toEqual([
      "category",
      "limit",
      "order",
      "page",
      "q",
      "sort",
      "tag",
    ]);
    const limit = list.parameters.find((p) => p.name === "limit")!;
    expect(limit.schema.maximum).toBe(100);
    // The schema's error helper is a function: it never reaches the document.
    expect(JSON.stringify(doc)).not.toContain('"error":"');
    const upload = doc.paths["/api/v1/torrents"]!.post! as {
      requestBody: {
        content: Record<string, { schema: { properties: Record<string, { format?: string }> } }>;
      };
    };
    expect(Object.keys(upload.requestBody.content)).toEqual(["multipart/form-data"]);
    expect(upload.requestBody.content["multipart/form-data"]!.schema.properties.file!.format).toBe("binary");
    const publicOps = [
      doc.paths["/api/v1/session"]!.post!,
      doc.paths["/api/v1/invites/{invite}"]!.get!,
      doc.paths["/api/v1/invites/{invite}/claim"]!.post!,
      doc.paths["/api/v1/password-reset"]!.post!,
    ];
    for (const op of publicOps) expect(op.security).toEqual([]);
  });
});

/** Every operation with a request body, as [where, media type, its schema and example]. */
function bodies() {
  const out: { where: string; type: string; schema: Record<string, unknown>; example: unknown }[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const body = op.requestBody as
        | { content: Record<string, { schema: Record<string, unknown>; example?: unknown }> }
        | undefined;
      if (!body) continue;
      const where = `${method.toUpperCase()} ${path}`;
      expect({ where, types: Object.keys(body.content).length }).toEqual({ where, types: 1 });
      for (const [type, media] of Object.entries(body.content))
        out.push({ where, type, schema: media.schema, example: media.example });
    }
  return out;
}

describe("request bodies", () => {
  test("the whole document is valid OpenAPI", async () => {
    // The validator changes what it is given (it resolves references): give it a copy.
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? "" : compileErrors(result)).toBe("");
    expect(result.valid).toBe(true);
  });

  test("every route that takes a body has a schema with described fields and an example", () => {
    const all = bodies();
    // Each JSON route of the API plus the upload form.
    expect(all.length).toBeGreaterThanOrEqual(18);
    expect(all.filter((b) => b.type === "multipart/form-data").map((b) => b.where)).toEqual([
      "POST /api/v1/torrents",
    ]);
    for (const { where, type, schema, example } of all) {
      if (type !== "multipart/form-data")
        expect({ where, type }).toEqual({ where, type: "application/json" });
      const properties = schema.properties as Record<string, { description?: string }> | undefined;
      expect({ where, fields: Object.keys(properties ?? {}).length > 0 }).toEqual({ where, fields: true });
      for (const [name, field] of Object.entries(properties ?? {}))
        expect({ where, name, described: (field.description ?? "").length > 0 }).toEqual({
          where,
          name,
          described: true,
        });
      expect({ where, example: typeof example }).toEqual({ where, example: "object" });
      // The media type's example is the schema's first.
      expect((schema.examples as unknown[])[0]).toEqual(example);
    }
  });

  test("each example is valid against its own schema, and a broken one is not", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // Formats the document uses: Elysia's coercions (a number or a string of digits), files, times.
    for (const name of ["numeric", "integer", "binary", "int64"]) ajv.addFormat(name, true);
    ajv.addFormat(
      "date-time",
      (value: string) => /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)),
    );
    for (const { where, schema, example } of bodies()) {
      const check = ajv.compile(schema);
      for (const each of schema.examples as unknown[]) {
        const ok = check(each);
        expect({ where, errors: ok ? [] : check.errors }).toEqual({ where, errors: [] });
      }
      // The check can fail: an example with a field of the wrong type is refused.
      const field = Object.keys(example as object)[0]!;
      expect({ where, broken: check({ ...(example as object), [field]: { wrong: true } }) }).toEqual({
        where,
        broken: false,
      });
    }
  });

  test("an example sent as it is documented gets past validation", async () => {
    // The log-in example names a member who does not exist: refused as a wrong password, not as
    // a malformed body.
    const example = bodies().find((b) => b.where === "POST /api/v1/session")!.example;
    const response = await api.call("/api/v1/session", { json: example, ip: "203.0.113.77" });
    const error = await expectError(response, 401, "unauthenticated");
    expect(error.fields).toBeUndefined();
  });
});

describe("request bodies of requests", () => {
  test("each field is described, and the body carries examples that its schema accepts", () => {
    for (const path of ["/api/v1/requests", "/api/v1/requests/{id}/bounty", "/api/v1/requests/{id}/fill"]) {
      const op = doc.paths[path]!.post! as {
        requestBody: {
          content: Record<
            string,
            {
              schema: {
                properties: Record<string, { description?: string }>;
                required?: string[];
                examples?: Record<string, unknown>[];
              };
            }
          >;
        };
      };
      const schema = op.requestBody.content["application/json"]!.schema;
      for (const [name, field] of Object.entries(schema.properties))
        expect({ path, name, described: typeof field.description }).toEqual({
          path,
          name,
          described: "string",
        });
      expect(schema.examples?.length).toBeGreaterThan(0);
      for (const example of schema.examples!) {
        for (const key of schema.required ?? []) expect(Object.keys(example)).toContain(key);
        for (const key of Object.keys(example)) expect(Object.keys(schema.properties)).toContain(key);
      }
    }
  });
});

describe("request bodies of recovery and two factors", () => {
  test("are Elysia schemas that describe every field and carry an example", () => {
    const routes = api.app.routes as unknown as { method: string; path: string; hooks: { body?: unknown } }[];
    for (const [method, path] of [
      ["POST", "/api/v1/session"],
      ["POST", "/api/v1/password-reset"],
      ["PUT", "/api/v1/users/:id/email"],
    ] as const) {
      const route = routes.find((r) => r.method === method && r.path === path);
      const schema = route?.hooks.body as
        | { properties: Record<string, { description?: string }>; examples?: Record<string, unknown>[] }
        | undefined;
      expect({ path, found: Boolean(schema?.properties) }).toEqual({ path, found: true });
      for (const [name, field] of Object.entries(schema!.properties))
        expect({ path, name, description: typeof field.description }).toEqual({
          path,
          name,
          description: "string",
        });
      expect(schema!.examples?.length).toBeGreaterThanOrEqual(1);
      for (const example of schema!.examples!)
        for (const key of Object.keys(example)) expect(Object.keys(schema!.properties)).toContain(key);
    }
  });
});

describe("the documentation page", () => {
  test("renders every route from the document, with no request to another host", async () => {
    const response = await api.call("/api/v1/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    const page = await response.text();
    for (const [path, item] of Object.entries(doc.paths))
      for (const method of Object.keys(item))
        expect(page).toContain(`<code>${method.toUpperCase()}</code> <code>${path}</code>`);
    expect(page).toContain('href="/api/v1/openapi.json"');
    expect(page).toContain("Parameters");
    expect(page).toContain("Request body");
    expect(page).toContain("Responses");
    // One folded section per tag, each with its routes.
    const sections = [...page.matchAll(/<details class="api-tag"[^>]*>([\s\S]*?)<\/details>/g)];
    expect(sections.map((m) => /<h2>([^<]*)<\/h2>/.exec(m[1]!)?.[1])).toEqual(doc.tags.map((t) => t.name));
    expect(page).not.toMatch(/<details class="api-tag"[^>]* open/);
    // Descriptions are Markdown: backticks become code, never show as backticks.
    expect(page).toContain("<code>Authorization: Bearer &lt;token&gt;</code>");
    expect(page.replace(/<pre[\s\S]*?<\/pre>/g, "")).not.toContain("`");
    // Request bodies show their example, escaped.
    expect(page).toContain('<pre class="api-example"><code>{\n  &quot;name&quot;: &quot;alice&quot;');
    // Every script, stylesheet, image or frame comes from this site.
    const external = [...page.matchAll(/\b(?:src|href)="([^"]*)"/g)]
      .map((m) => m[1]!)
      .filter((u) => /^(https?:)?\/\//.test(u));
    expect(external).toEqual([]);
  });

  test("follows the reverse proxy's path prefix", async () => {
    const response = await api.call("/api/v1/docs", { headers: { "x-fairywren-base": "/t" } });
    expect(await response.text()).toContain('href="/t/api/v1/openapi.json"');
  });
});

describe("errors under /api", () => {
  test("Elysia's own errors come in the API's shape: no route, wrong method, bad input", async () => {
    await expectError(await api.call("/api/v1/nothing-here"), 404, "not_found");
    await expectError(await api.call("/api/v1"), 404, "not_found");
    await expectError(await api.call("/api/v2/torrents"), 404, "not_found");
    await expectError(await api.call("/api/v1/me", { method: "PATCH", json: {} }), 404, "not_found");
    await expectError(await api.call("/api/v1/torrents/1/nothing"), 404, "not_found");
    // The page site keeps its HTML error pages.
    const page = await api.call("/nothing-here");
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toStartWith("text/html");
  });

  test("NUL characters and broken percent-encoding are refused in the shape, never a 5xx", async () => {
    const nul = await expectError(
      await api.call("/api/v1/session", {
        json: { name: "a\u0000b", password: "whatever1" },
        ip: "203.0.113.9",
      }),
      422,
      "validation",
    );
    expect(Object.keys(nul.fields!)).toEqual(["name"]);
    const { token } = await api.memberWithToken("nul");
    const query = await expectError(
      await api.call("/api/v1/torrents?q=a%00", { as: { token } }),
      422,
      "validation",
    );
    expect(Object.keys(query.fields!)).toEqual(["q"]);
    for (const bad of ["%FF", "%C3", "a%E2%82"]) {
      const response = await api.call(`/api/v1/invites/${bad}`, { ip: "203.0.113.9" });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      await expectError(response, response.status, response.status === 404 ? "not_found" : "validation");
    }
    for (const id of ["1.5", "0.5", "1e-7", "9007199254740993", "2e53", " 1"]) {
      const response = await api.call(`/api/v1/torrents/${encodeURIComponent(id)}`, { as: { token } });
      await expectError(response, 422, "validation");
    }
  });

  test("an unexpected failure is 500 in the shape, with no stack trace or detail", async () => {
    const { token } = await api.memberWithToken("broken");
    // A torrent whose stored file is damaged: personalising it throws.
    const [row] = await api.db.sql`
      insert into torrents (info_hash, title, size, files, metainfo)
      values (${Buffer.alloc(20, 7)}, 'Damaged', 1, ${api.db.sql.json([])}, ${Buffer.from("garbage")})
      returning id
    `;
    const error = await expectError(
      await api.call(`/api/v1/torrents/${row!.id}/download`, { as: { token } }),
      500,
      "internal",
    );
    expect(error.message).not.toContain("garbage");
    expect(error.message).not.toContain("info dictionary");
  });
});

describe("rate limits", () => {
  test("60 a minute per address without a token, then 429 with Retry-After, in the shape", async () => {
    const ip = "203.0.113.50";
    for (let i = 0; i < 60; i++) {
      const response = await api.call("/api/v1/invites/xyz", { ip });
      expect(response.status).toBe(404);
      expect(response.headers.get("ratelimit-remaining")).toBe(String(59 - i));
    }
    const limited = await api.call("/api/v1/invites/xyz", { ip });
    await expectError(limited, 429, "rate_limited");
    const retry = Number(limited.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Other addresses are not affected; wrong tokens count against the address too.
    expect((await api.call("/api/v1/invites/xyz", { ip: "203.0.113.51" })).status).toBe(404);
    await expectError(
      await api.call("/api/v1/me", {
        ip,
        headers: { authorization: "Bearer fw_guessing_tokens_0000000000" },
      }),
      429,
      "rate_limited",
    );
  });

  test("120 a minute per token, whatever the address", async () => {
    const { token } = await api.memberWithToken("busy");
    for (let i = 0; i < 120; i++) {
      const response = await api.call("/api/v1/me", { as: { token }, ip: `198.51.100.${i % 200}` });
      expect(response.status).toBe(200);
    }
    const limited = await api.call("/api/v1/me", { as: { token }, ip: "198.51.100.250" });
    await expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Another token of the same member has its own allowance.
    const other = await api.memberWithToken("calm");
    expect((await api.call("/api/v1/me", { as: { token: other.token } })).status).toBe(200);
  });
});

describe("JSON bodies", () => {
  test("success answers are JSON with the documented fields", async () => {
    const { token } = await api.memberWithToken("shape");
    const me = await expectJson<Record<string, unknown>>(await api.call("/api/v1/me", { as: { token } }));
    const schema = (
      doc.paths["/api/v1/me"]!.get!.responses as Record<
        string,
        { content: Record<string, { schema: { required: string[] } }> }
      >
    )["200"]!.content["application/json"]!.schema;
    expect(Object.keys(me).sort()).toEqual([...schema.required].sort());
  });
});
