// S3 ListBuckets for the providers whose buckets only S3 lists (a Vultr
// subscription without Vultr's bucket endpoint, DigitalOcean Spaces): AWS
// Signature V4 over WebCrypto, a strict reader of the two XML answers
// ListBuckets can get, and one signed GET of "/". Runs in an action (Convex's
// default runtime: fetch and crypto.subtle, no DOM, no node:*). Not a general
// S3 client: no body, no query, no other operation. Which hosts a provider's
// keys may go to is the provider's own check (adapters/*/).
import type { Provider } from "../validators";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RETRY_POLICY,
  IncompleteListingError,
  readCappedBody,
  ProviderError,
  redactSecret,
  type S3KeyPair,
} from "./http";

/** A key pair as it is encrypted and stored (one ciphertext for both halves). */
export function serializeS3KeyPair(pair: S3KeyPair): string {
  return JSON.stringify({ accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey });
}

/** The stored pair; the error never quotes the plaintext (it holds the secret). */
export function parseS3KeyPair(json: string): S3KeyPair {
  let pair: Partial<S3KeyPair> | null = null;
  try {
    pair = JSON.parse(json) as Partial<S3KeyPair> | null;
  } catch {
    pair = null;
  }
  if (typeof pair?.accessKeyId !== "string" || typeof pair.secretAccessKey !== "string") {
    throw new Error("the stored key pair is not in a format this deployment can read");
  }
  return { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey };
}

/** A bucket as ListBuckets names it. */
export type S3Bucket = { name: string; date_created: string };

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return await crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

async function sha256Hex(data: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(data)));
}

// RFC 3986 unreserved characters stay; everything else is %XX (upper case),
// as SigV4 wants for query names and values.
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type SignInput = {
  method: string;
  url: URL;
  /** Headers to sign besides host, lower-case names. */
  headers: Record<string, string>;
  payloadHash: string;
  accessKey: string;
  secretKey: string;
  region: string;
  service: string;
  /** YYYYMMDDTHHMMSSZ */
  amzDate: string;
};

/**
 * AWS Signature Version 4: the Authorization header for a request. The path
 * is signed as sent (S3 does not normalise it); the query is sorted and encoded.
 */
export async function signV4(input: SignInput): Promise<string> {
  const date = input.amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, host: input.url.host };
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n].trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const query = [...input.url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    input.method,
    input.url.pathname || "/",
    query,
    canonicalHeaders,
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", input.amzDate, scope, await sha256Hex(canonicalRequest)].join("\n");
  let key = await hmac(encoder.encode(`AWS4${input.secretKey}`), date);
  key = await hmac(key, input.region);
  key = await hmac(key, input.service);
  key = await hmac(key, "aws4_request");
  const signature = toHex(await hmac(key, stringToSign));
  return `AWS4-HMAC-SHA256 Credential=${input.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

// ---------------------------------------------------------------------------
// XML: only the two documents ListBuckets answers with. No DOM in Convex, and
// no need for one: element text, no attributes read, no DTD accepted.

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeText(text: string): string {
  if (text.includes("<![CDATA[")) throw new Error("CDATA is not expected here");
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const known = ENTITIES[ref];
    if (known === undefined) throw new Error(`unknown entity ${whole}`);
    return known;
  });
}

type XmlElement = { name: string; children: XmlElement[]; text: string };

/**
 * Parses a small XML document into elements (namespaces kept in attributes,
 * which are ignored). Throws on anything malformed: mismatched tags, a DTD,
 * text after the root.
 */
export function parseXml(xml: string): XmlElement {
  let at = 0;
  const skipProlog = () => {
    for (;;) {
      while (at < xml.length && /\s/.test(xml[at])) at++;
      if (xml.startsWith("<?", at)) {
        const end = xml.indexOf("?>", at);
        if (end < 0) throw new Error("unterminated declaration");
        at = end + 2;
      } else if (xml.startsWith("<!--", at)) {
        const end = xml.indexOf("-->", at);
        if (end < 0) throw new Error("unterminated comment");
        at = end + 3;
      } else if (xml.startsWith("<!", at)) {
        throw new Error("a DTD is not accepted");
      } else {
        return;
      }
    }
  };
  const element = (depth: number): XmlElement => {
    if (depth > 16) throw new Error("nested too deeply");
    const open = /^<([A-Za-z_][\w.-]*(?::[\w.-]+)?)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(xml.slice(at, at + 4096));
    if (!open) throw new Error(`expected an element at ${at}`);
    at += open[0].length;
    const node: XmlElement = { name: open[1], children: [], text: "" };
    if (open[3] === "/") return node;
    let text = "";
    for (;;) {
      const lt = xml.indexOf("<", at);
      if (lt < 0) throw new Error(`unterminated <${node.name}>`);
      text += xml.slice(at, lt);
      at = lt;
      if (xml.startsWith("</", at)) {
        const close = /^<\/([^\s>]+)\s*>/.exec(xml.slice(at, at + 300));
        if (!close || close[1] !== node.name) throw new Error(`mismatched closing tag for <${node.name}>`);
        at += close[0].length;
        node.text = decodeText(text);
        return node;
      }
      if (xml.startsWith("<!--", at)) {
        const end = xml.indexOf("-->", at);
        if (end < 0) throw new Error("unterminated comment");
        at = end + 3;
        continue;
      }
      if (xml.startsWith("<!", at) || xml.startsWith("<?", at)) throw new Error("unexpected markup");
      node.children.push(element(depth + 1));
    }
  };
  skipProlog();
  const root = element(1);
  skipProlog();
  if (at !== xml.length) throw new Error("text after the root element");
  return root;
}

function child(node: XmlElement, name: string): XmlElement | undefined {
  return node.children.find((c) => c.name === name);
}

/** ListAllMyBucketsResult: the buckets, and whether the answer says more follow. */
export function parseListBuckets(xml: string): { buckets: S3Bucket[]; truncated: boolean } {
  const root = parseXml(xml);
  if (root.name !== "ListAllMyBucketsResult") throw new Error(`the answer is <${root.name}>, not ListAllMyBucketsResult`);
  // An account without buckets still answers <Buckets/>: an answer without
  // it, or with something else in it, is not a listing to delete rows by.
  const list = child(root, "Buckets");
  if (list === undefined) throw new Error("the answer has no <Buckets> element");
  const buckets: S3Bucket[] = [];
  for (const b of list.children) {
    if (b.name !== "Bucket") throw new Error(`<Buckets> holds <${b.name}>, not only <Bucket>`);
    const name = child(b, "Name")?.text ?? "";
    if (name === "") throw new Error("a bucket without a name");
    buckets.push({ name, date_created: child(b, "CreationDate")?.text ?? "" });
  }
  // Newer S3 pages ListBuckets with a ContinuationToken; a truncated answer
  // is not a whole listing.
  const truncated = child(root, "IsTruncated")?.text.trim() === "true" || (child(root, "ContinuationToken")?.text ?? "") !== "";
  return { buckets, truncated };
}

/** S3's <Error>: its code and message, or null when the body is not one. */
export function parseS3Error(xml: string): { code: string; message: string } | null {
  try {
    const root = parseXml(xml);
    if (root.name !== "Error") return null;
    return { code: child(root, "Code")?.text ?? "", message: child(root, "Message")?.text ?? "" };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// The request

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const S3_ATTEMPTS = 3;

function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Where ListBuckets for `hostname` goes: https://<hostname>/, or with an
 * operator's override (the emulator) `<override>/<hostname>/`.
 */
export function s3HostUrl(hostname: string, override: string | undefined): URL {
  if (override !== undefined && override.trim() !== "") {
    return new URL(`${override.trim().replace(/\/+$/, "")}/${hostname}/`);
  }
  return new URL(`https://${hostname}/`);
}

async function readBounded(response: Response): Promise<string> {
  return await readCappedBody(
    response,
    DEFAULT_MAX_BODY_BYTES,
    () => new Error(`the answer is larger than ${DEFAULT_MAX_BODY_BYTES} bytes`),
  );
}

export type S3Options = {
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  // The sync's time budget (ProviderClient.deadline), ms since the epoch.
  deadline?: number;
};

// The longest Retry-After a ListBuckets waits out.
const S3_MAX_WAIT_MS = 30_000;

/**
 * One ListBuckets target: held in the action's memory only, never stored or
 * passed on. `hostname` names the endpoint in errors; `url` is where the
 * request goes (the hostname's, or an override's); `region` is the SigV4
 * credential scope's.
 */
export type S3Target = {
  provider: Provider;
  hostname: string;
  url: URL;
  region: string;
  accessKey: string;
  secretKey: string;
};

/** Builds the ProviderError of a ListBuckets: its text never holds either key. */
export function s3Failure(target: Pick<S3Target, "provider" | "hostname" | "accessKey" | "secretKey">) {
  const endpoint = `S3 ListBuckets on ${target.hostname}`;
  return (status: number | null, message: string, retryable: boolean) =>
    new ProviderError(
      target.provider,
      endpoint,
      status,
      redactSecret(redactSecret(message, target.secretKey), target.accessKey).slice(0, 300),
      retryable,
    );
}

/**
 * Every bucket S3 ListBuckets answers at the target, signed with its keys.
 * Throws ProviderError whose text names the host and S3's error code and
 * never holds either key: 403 for a refused signature or key
 * (SignatureDoesNotMatch, InvalidAccessKeyId), retried only on 429, 5xx and
 * network failures; IncompleteListingError for a truncated answer.
 */
export async function listBucketsSigned(target: S3Target, options: S3Options = {}): Promise<S3Bucket[]> {
  const fail = s3Failure(target);
  const timeoutMs = options.timeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw fail(null, "this sync's time budget ran out before the request", false);
    try {
      // No attempt outlives the sync's budget.
      return await listOnce(target, Math.min(timeoutMs, remaining), fail);
    } catch (e) {
      if (!(e instanceof ProviderError) || !e.retryable || attempt >= S3_ATTEMPTS) throw e;
      // A Retry-After longer than S3_MAX_WAIT_MS, or past the budget, is not
      // waited out: the listing fails now (nothing is deleted) and the next
      // sync asks again.
      const wait = e.retryAfterMs ?? 250 * 2 ** attempt;
      if (wait > S3_MAX_WAIT_MS || Date.now() + wait >= deadline) throw e;
      await sleep(wait);
    }
  }
}

async function listOnce(
  target: S3Target,
  timeoutMs: number,
  fail: (status: number | null, message: string, retryable: boolean) => ProviderError,
): Promise<S3Bucket[]> {
  const url = target.url;
  const amzDate = amzDateOf(Date.now());
  const headers = { "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amzDate };
  const authorization = await signV4({
    method: "GET",
    url,
    headers,
    payloadHash: EMPTY_SHA256,
    accessKey: target.accessKey,
    secretKey: target.secretKey,
    region: target.region,
    service: "s3",
    amzDate,
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  let body: string;
  try {
    // Redirects are not followed: they would carry the signed request elsewhere.
    response = await fetch(url, { method: "GET", headers: { ...headers, Authorization: authorization }, signal: controller.signal, redirect: "manual" });
    body = await readBounded(response);
  } catch (e) {
    const aborted = controller.signal.aborted;
    throw fail(null, aborted ? `no answer within ${timeoutMs} ms` : `network error: ${(e as Error).message}`, !/larger than/.test((e as Error).message));
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const s3 = parseS3Error(body);
    const text = s3 === null ? `HTTP ${response.status} without an S3 error body` : `${s3.code}: ${s3.message}`;
    const error = fail(response.status, text, RETRYABLE.has(response.status));
    const retryAfter = Number(response.headers.get("retry-after"));
    if (Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.get("retry-after") !== null) {
      error.retryAfterMs = retryAfter * 1000;
    }
    throw error;
  }
  let parsed;
  try {
    parsed = parseListBuckets(body);
  } catch (e) {
    throw fail(200, `the answer is not a ListAllMyBucketsResult (${(e as Error).message})`, false);
  }
  if (parsed.truncated) {
    throw new IncompleteListingError(target.provider, `S3 ListBuckets on ${target.hostname}`, "the answer is truncated (paged ListBuckets is not read)");
  }
  return parsed.buckets;
}
