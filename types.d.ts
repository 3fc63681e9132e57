declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "*.js" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
// JSON.parse source text access (Bun implements JSON.rawJSON; TypeScript's lib lacks it so far).
interface JSON {
  /** A value JSON.stringify writes as `text` itself: used for integers beyond 2^53. */
  rawJSON(text: string): { readonly rawJSON: string };
}

declare module "*.svg" {
  const text: string;
  export default text;
}
