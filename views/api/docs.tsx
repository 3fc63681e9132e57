/** @jsxImportSource @kitajs/html */
import { Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { Rendered, type RenderedHtml, RenderedInline } from "../markdown/rendered.tsx";

/** The site's Markdown renderer, for the document's descriptions (`code`, *emphasis*, links). */
export interface DocsMarkdown {
  /** Paragraphs: the API's description. */
  block(text: string): RenderedHtml;
  /** One line: summaries, field and parameter descriptions. */
  inline(text: string): RenderedHtml;
}

/** A JSON Schema as it appears in the document (only what the docs page reads). */
export interface Schema {
  type?: string | string[];
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  [key: string]: unknown;
}

/** A parameter of an operation. */
export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
  description?: string;
}

/** One method of one path. */
export interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: {
    description?: string;
    required?: boolean;
    content: Record<string, { schema: Schema; example?: unknown }>;
  };
  responses?: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
}

/** The OpenAPI document the page describes. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** Elysia documents a numeric path or query value as "a number, or a string of digits": say "number". */
function isCoercion(schema: Schema): boolean {
  return schema.type === "string" && (schema.format === "numeric" || schema.format === "integer");
}

/** A schema's type in a few words: "string", "array of object", "one of a, b", "object or null". */
export function typeText(schema: Schema | undefined): string {
  if (!schema) return "any";
  if (schema.anyOf) {
    const kept = schema.anyOf.filter((s) => !isCoercion(s));
    return [...new Set((kept.length ? kept : schema.anyOf).map(typeText))].join(" or ");
  }
  if (schema.enum) return `one of ${schema.enum.map(String).join(", ")}`;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return schema.properties ? "object" : "any";
  return types
    .map((type) => {
      if (type === "array") return `array of ${typeText(schema.items)}`;
      if (type === "string" && schema.format) return `string (${schema.format})`;
      return type;
    })
    .join(" or ");
}

/** Limits of a value in words: "1 to 64 characters", "at most 100", "matches ^(a|b)$". */
export function limitsText(schema: Schema | undefined): string {
  if (!schema) return "";
  const inner = schema.anyOf?.find((s) => !isCoercion(s)) ?? schema;
  const out: string[] = [];
  const { minLength, maxLength, minimum, maximum, pattern } = { ...inner, ...schema };
  if (minLength !== undefined && maxLength !== undefined) out.push(`${minLength} to ${maxLength} characters`);
  else if (maxLength !== undefined) out.push(`at most ${maxLength} characters`);
  else if (minLength !== undefined) out.push(`at least ${minLength} characters`);
  if (minimum !== undefined && maximum !== undefined) out.push(`${minimum} to ${maximum}`);
  else if (maximum !== undefined) out.push(`at most ${maximum}`);
  else if (minimum !== undefined) out.push(`at least ${minimum}`);
  if (pattern !== undefined) out.push(`matches ${pattern}`);
  return out.join("; ");
}

/** The object schema inside a schema (through arrays and nullable unions), if any. */
function objectOf(schema: Schema | undefined): Schema | null {
  if (!schema) return null;
  if (schema.properties) return schema;
  if (schema.items) return objectOf(schema.items);
  for (const option of schema.anyOf ?? []) {
    const found = objectOf(option);
    if (found) return found;
  }
  return null;
}

/** The fields of an object, nested objects indented under their field. */
function Fields(props: { schema: Schema; md: DocsMarkdown; depth?: number }) {
  const object = objectOf(props.schema);
  if (!object?.properties || (props.depth ?? 0) > 5) return "";
  const required = new Set(object.required ?? []);
  return (
    <ul class="api-fields">
      {Object.entries(object.properties).map(([name, schema]) => {
        const limits = limitsText(schema);
        return (
          <li>
            <code safe>{name}</code>{" "}
            <span class="muted" safe>
              {typeText(schema)}
            </span>
            {required.has(name) ? "" : <span class="muted"> (optional)</span>}
            {schema.description ? (
              <>
                {" — "}
                <RenderedInline html={props.md.inline(schema.description)} />
              </>
            ) : (
              ""
            )}
            {limits ? <span class="muted" safe>{` (${limits})`}</span> : ""}
            <Fields schema={schema} md={props.md} depth={(props.depth ?? 0) + 1} />
          </li>
        );
      })}
    </ul>
  );
}

/** The request body's example: the media type's, else the first of its schema's examples. */
function exampleOf(op: Operation): unknown {
  const media = Object.values(op.requestBody?.content ?? {})[0];
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  return Array.isArray(media.schema.examples) ? media.schema.examples[0] : undefined;
}

function anchor(method: string, path: string): string {
  return `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function OperationCard(props: { method: string; path: string; op: Operation; md: DocsMarkdown }) {
  const { method, path, op, md } = props;
  const isPublic = Array.isArray(op.security) && op.security.length === 0;
  const parameters = op.parameters ?? [];
  return (
    <section class="card stack api-op" id={anchor(method, path)}>
      <h3>
        <code safe>{method.toUpperCase()}</code> <code safe>{path}</code>
      </h3>
      {op.summary ? (
        <p>
          <RenderedInline html={md.inline(op.summary)} />
        </p>
      ) : (
        ""
      )}
      {op.description ? <Rendered html={md.block(op.description)} class="muted" /> : ""}
      <p class="muted">{isPublic ? "No log-in needed." : "Needs an API token or the session cookie."}</p>
      {parameters.length ? (
        <>
          <h4>Parameters</h4>
          <table class="list api-params">
            <thead>
              <tr>
                <th>Name</th>
                <th>In</th>
                <th>Type</th>
                <th>Notes</th>
              </tr>
            </thead>
            <tbody>
              {parameters.map((p) => (
                <tr>
                  <td>
                    <code safe>{p.name}</code>
                    {p.required ? "" : <span class="muted"> (optional)</span>}
                  </td>
                  <td safe>{p.in}</td>
                  <td safe>{typeText(p.schema)}</td>
                  <td>
                    {p.description || p.schema?.description ? (
                      <RenderedInline html={md.inline(p.description ?? p.schema?.description ?? "")} />
                    ) : (
                      ""
                    )}
                    {limitsText(p.schema) ? (
                      <span class="muted" safe>{` (${limitsText(p.schema)})`}</span>
                    ) : (
                      ""
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        ""
      )}
      {op.requestBody ? (
        <>
          <h4>Request body</h4>
          <p class="muted" safe>
            {Object.keys(op.requestBody.content).join(", ")}
          </p>
          <Fields schema={Object.values(op.requestBody.content)[0]?.schema ?? {}} md={md} />
          {exampleOf(op) !== undefined ? (
            <>
              <h5>Example</h5>
              <pre class="api-example">
                <code safe>{JSON.stringify(exampleOf(op), null, 2)}</code>
              </pre>
            </>
          ) : (
            ""
          )}
        </>
      ) : (
        ""
      )}
      <h4>Responses</h4>
      <ul class="api-responses">
        {Object.entries(op.responses ?? {}).map(([status, response]) => {
          const json = response.content?.["application/json"]?.schema;
          const ok = status.startsWith("2");
          return (
            <li>
              <strong safe>{status}</strong>{" "}
              <RenderedInline
                html={md.inline(
                  ok ? (json?.description ?? response.description ?? "") : (response.description ?? ""),
                )}
              />
              {ok && json ? <Fields schema={json} md={md} /> : ""}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** A readable page of the OpenAPI document: every route, its parameters, body and responses. */
export function ApiDocsPage(props: {
  page: PageContext;
  doc: OpenApiDocument;
  specUrl: string;
  markdown: DocsMarkdown;
}) {
  const { doc, markdown: md } = props;
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })),
  );
  return (
    <Layout page={props.page} title="API">
      <h1 safe>{doc.info.title}</h1>
      <Rendered html={md.block(doc.info.description)} />
      <p>
        The same as an OpenAPI <span safe>{doc.openapi}</span> document:{" "}
        <a href={props.specUrl} safe>
          {props.specUrl}
        </a>
      </p>
      {doc.tags.map((tag) => {
        const mine = operations.filter((o) => (o.op.tags ?? []).includes(tag.name));
        return (
          <details class="api-tag" id={`tag-${anchor("", tag.name)}`}>
            <summary>
              <h2 safe>{tag.name}</h2>{" "}
              <span class="muted">
                <RenderedInline html={md.inline(tag.description)} />
                <span safe>{` (${mine.length} ${mine.length === 1 ? "route" : "routes"})`}</span>
              </span>
            </summary>
            <ul>
              {mine.map((o) => (
                <li>
                  <a href={`#${anchor(o.method, o.path)}`}>
                    <code safe>{`${o.method.toUpperCase()} ${o.path}`}</code>
                  </a>{" "}
                  {o.op.summary ? <RenderedInline html={md.inline(o.op.summary)} /> : ""}
                </li>
              ))}
            </ul>
            {mine.map((o) => (
              <OperationCard method={o.method} path={o.path} op={o.op} md={md} />
            ))}
          </details>
        );
      })}
    </Layout>
  );
}
