// The one HTTP client the provider adapters share: base URL, bearer auth,
// per-request timeout, bounded retries with backoff, each provider's paging
// rules and error envelope. Provider API classes only name endpoints.
// Runs inside actions only (mutations cannot fetch).
import { PROVIDER_API_URL_ENV, providerApiUrl } from "../lib/settings";
import type { Provider } from "../validators";

export const PROVIDER_NAMES: Record<Provider, string> = {
  vultr: "Vultr",
  digitalocean: "DigitalOcean",
  linode: "Linode",
};

const DEFAULT_BASE_URLS: Record<Provider, string> = {
  vultr: "https://api.vultr.com",
  digitalocean: "https://api.digitalocean.com",
  linode: "https://api.linode.com",
};

export const BASE_URL_ENV: Record<Provider, string> = PROVIDER_API_URL_ENV;

/** The provider's base URL: the env override (an emulator, a proxy) or the real API. */
export function baseUrlFor(provider: Provider): string {
  const override = providerApiUrl(provider);
  return (override && override.trim() !== "" ? override.trim() : DEFAULT_BASE_URLS[provider]).replace(
    /\/+$/,
    "",
  );
}

/** A provider call that failed; the message names provider, endpoint and status, never the token. */
export class ProviderError extends Error {
  // What the provider asked us to wait (Retry-After or reset headers).
  retryAfterMs?: number;
  // The token works but may not use this endpoint (a scope it lacks): the
  // type is out of reach, the key itself is fine. See isScopeRefusal.
  scopeRefused?: boolean;

  constructor(
    readonly provider: Provider,
    readonly endpoint: string,
    // null when no HTTP answer came back (network error, timeout), or when
    // the answers were each fine but do not add up to a listing.
    readonly status: number | null,
    readonly providerMessage: string,
    readonly retryable: boolean,
  ) {
    super(
      `${PROVIDER_NAMES[provider]} GET ${endpoint} failed: ` +
        (status === null ? providerMessage : `HTTP ${status}: ${providerMessage}`),
    );
    this.name = "ProviderError";
  }
}

/**
 * The pages answered but do not add up to a whole listing (paging data
 * missing or inconsistent, a short page before the last, a cursor that
 * cycles): whatever was read must not be taken as complete. Not retried, as
 * asking the same pager again would burn the rate limit for the same answer.
 */
export class IncompleteListingError extends ProviderError {
  constructor(provider: Provider, endpoint: string, message: string) {
    super(provider, endpoint, null, message, false);
    this.name = "IncompleteListingError";
  }
}

/** The provider's list moved under the pager; some items may have been skipped. */
export class ListingChangedError extends IncompleteListingError {
  constructor(provider: Provider, endpoint: string, message: string) {
    super(provider, endpoint, message);
    this.name = "ListingChangedError";
  }
}

/** The listing says it holds more items than a sync reads (ClientOptions.maxItems). */
export class ListingTooLargeError extends IncompleteListingError {
  constructor(provider: Provider, endpoint: string, message: string) {
    super(provider, endpoint, message);
    this.name = "ListingTooLargeError";
  }
}

/** An answer larger than ClientOptions.maxBodyBytes; abandoned unread, never retried. */
export class ResponseTooLargeError extends ProviderError {
  constructor(provider: Provider, endpoint: string, status: number, message: string) {
    super(provider, endpoint, status, message, false);
    this.name = "ResponseTooLargeError";
  }
}

export type RetryPolicy = {
  // Attempts per request, the first included.
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  // Per-request timeout.
  timeoutMs: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 30_000,
};

export type ClientOptions = {
  provider: Provider;
  token: string;
  baseUrl?: string;
  retry?: Partial<RetryPolicy>;
  // Absolute time (ms since epoch) after which no new attempt or wait starts,
  // so a sync ends well inside Convex's action time limit.
  deadline?: number;
  // Pages fetched at once where the page count is known after page 1.
  concurrency?: number;
  // Largest answer read, in bytes; a larger one fails with ResponseTooLargeError.
  maxBodyBytes?: number;
  // Largest listing read, in items; a larger one fails with ListingTooLargeError.
  maxItems?: number;
  sleep?: (ms: number) => Promise<void>;
  // Shared with another client of the same token (the sync's lookups), so a
  // rate-limit window one of them used up pauses both.
  pace?: Pace;
  // A second credential the dock holds besides its token, for what the
  // provider's API does not list (DigitalOcean Spaces buckets, by S3).
  s3Key?: S3KeyPair;
};

/** An S3 access key pair: decrypted in the sync action, held in its memory only. */
export type S3KeyPair = { accessKeyId: string; secretAccessKey: string };

/** When the provider's rate-limit window allows requests again (ms since the epoch). */
export type Pace = { pausedUntil: number };

// A 500-item page of realistic items is about 1 MB; anything past 8 MiB is a
// fault (or a hostile proxy), and reading it whole could exhaust the memory
// an action has.
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * A response body read a chunk at a time, so an endless or huge answer is
 * cut off at `maxBytes` instead of filling the action's memory; a declared
 * Content-Length past it is refused unread. `tooLarge` makes the error.
 */
export async function readCappedBody(
  response: Response,
  maxBytes: number,
  tooLarge: (detail: string) => Error,
): Promise<string> {
  const declared = response.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`Content-Length ${Number(declared)}`);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge("more than that arrived");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

// The largest listing one sync reads: above any real account, far below what
// a lying total could make the pager fetch (ten million is 20,000 requests),
// and small enough that the sync action's map of the dock's rows by key
// (about 0.25 KiB a row, measured by npm run bench) stays well inside the
// action's 64 MiB.
export const DEFAULT_MAX_LISTING_ITEMS = 100_000;

/** getItem's key for providers whose single-item answer is the item itself (Linode). */
export const WHOLE_BODY = "";

// Pages in flight at once once page 1 has told the page count (DigitalOcean,
// Linode). Six keeps a listing's wall time near one round trip per six pages
// while staying a small burst for the providers' per-minute limits.
export const DEFAULT_PAGE_CONCURRENCY = 6;

const PAGE_SIZE: Record<Provider, number> = {
  vultr: 500, // per_page max
  digitalocean: 200, // per_page max
  linode: 500, // page_size max
};

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// A provider's message is shown to users and stored on the dock: bounded.
const MAX_PROVIDER_MESSAGE = 300;
// A body that is not the provider's envelope is shown as a shorter excerpt.
const MAX_BODY_EXCERPT = 200;
// Redaction scans at most this much of a message; the cut keeps what is shown
// far inside what was scanned.
const MAX_SCANNED_MESSAGE = 16 * 1024;

/**
 * The provider's own error text from its envelope, or a short excerpt of the
 * body; with `secret` given, every echo of it is redacted before the text is cut.
 */
export function parseProviderMessage(provider: Provider, body: string, secret = ""): string {
  const { text, excerpt } = providerMessageOf(provider, body);
  const safe = redactSecret(boundForScan(text), secret);
  if (excerpt) {
    const short = safe.trim().slice(0, MAX_BODY_EXCERPT);
    return short === "" ? "no error message" : short;
  }
  return safe.length <= MAX_PROVIDER_MESSAGE ? safe : `${safe.slice(0, MAX_PROVIDER_MESSAGE - 1)}…`;
}

function providerMessageOf(provider: Provider, body: string): { text: string; excerpt: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isObject(parsed)) {
    if (provider === "digitalocean" && typeof parsed.message === "string") {
      const text = typeof parsed.id === "string" ? `${parsed.message} (${parsed.id})` : parsed.message;
      return { text, excerpt: false };
    }
    if (provider === "linode" && Array.isArray(parsed.errors)) {
      const reasons = parsed.errors
        .filter(isObject)
        .map((e) => (typeof e.field === "string" ? `${e.field}: ${String(e.reason)}` : String(e.reason)));
      if (reasons.length > 0) return { text: reasons.join("; "), excerpt: false };
    }
    if (provider === "vultr" && typeof parsed.error === "string" && parsed.error !== "") {
      return { text: parsed.error, excerpt: false };
    }
  }
  return { text: body.trimStart(), excerpt: true };
}

// JSON bytes of pages fetched ahead at once (numbered paging): six pages of
// realistic items are a few hundred KiB; pages of huge items go one at a time.
export const PAGE_MEMORY_BUDGET = 4 * 1024 * 1024;

// Shortest piece of a secret that counts as an echo of it: a provider echoing
// half the token still hands out half of it.
const MIN_SECRET_FRAGMENT = 8;
const REDACTED = "[redacted]";

// Cuts a long text before redaction. The last few characters go too: a
// fragment shorter than MIN_SECRET_FRAGMENT at the cut would not be recognised.
function boundForScan(text: string): string {
  return text.length <= MAX_SCANNED_MESSAGE ? text : text.slice(0, MAX_SCANNED_MESSAGE - MIN_SECRET_FRAGMENT);
}

function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The forms in which a secret can come back in a provider's text: as sent,
 * URL-encoded, hex, and base64 (alone or as "Bearer <secret>", standard and
 * URL-safe) at each of the three byte alignments it may have inside a longer
 * encoded string.
 */
export function secretForms(secret: string): string[] {
  if (secret === "") return [];
  // A provider may change the case of what it echoes (a hex token in capitals).
  const forms = new Set<string>([secret, secret.toLowerCase(), secret.toUpperCase()]);
  const url = encodeURIComponent(secret);
  forms.add(url);
  forms.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(url.replace(/%20/g, "+"));
  const bytes = new TextEncoder().encode(secret);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  for (const h of [hex, hex.toUpperCase()]) {
    forms.add(h);
    // Byte dumps: "64:6f:70", "64-6f-70", "64 6f 70".
    for (const sep of [":", "-", " "]) forms.add(h.match(/../g)!.join(sep));
  }
  for (const prefix of ["", "Bearer "]) {
    const head = new TextEncoder().encode(prefix);
    for (let shift = 0; shift < 3; shift++) {
      const all = new Uint8Array(shift + head.length + bytes.length);
      all.set(head, shift);
      all.set(bytes, shift + head.length);
      // Only the characters made of the secret's own bits: not those mixed
      // with the filler before it or with whatever follows it.
      const core = base64Of(all).slice(Math.ceil((shift * 8) / 6), Math.floor((all.length * 8) / 6));
      forms.add(core);
      forms.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms].filter((f) => f !== "");
}

/**
 * `text` with every echo of `secret` replaced by "[redacted]": each form of
 * secretForms whole, and any piece of one at least MIN_SECRET_FRAGMENT long.
 */
export function redactSecret(text: string, secret: string): string {
  return secretRedactor(secret)(text);
}

/**
 * redactSecret for one secret and many texts: the secret's forms and their
 * fragments are worked out once.
 */
export function secretRedactor(secret: string): (text: string) => string {
  const forms = secretForms(secret);
  const fragments = new Set<string>();
  for (const form of forms) {
    for (let i = 0; i + MIN_SECRET_FRAGMENT <= form.length; i++) fragments.add(form.slice(i, i + MIN_SECRET_FRAGMENT));
  }
  const short = forms.filter((form) => form.length < MIN_SECRET_FRAGMENT);
  return (text) => {
    if (forms.length === 0 || text === "") return text;
    // Mark every character covered by a known fragment; runs of marks become
    // one "[redacted]", so overlapping and adjacent echoes merge.
    let hit: Uint8Array | null = null;
    for (let i = 0; i + MIN_SECRET_FRAGMENT <= text.length; i++) {
      if (fragments.has(text.slice(i, i + MIN_SECRET_FRAGMENT))) {
        hit ??= new Uint8Array(text.length);
        hit.fill(1, i, i + MIN_SECRET_FRAGMENT);
      }
    }
    let out = text;
    if (hit !== null) {
      out = "";
      for (let i = 0; i < text.length; i++) {
        if (hit[i] === 0) out += text[i];
        else if (i === 0 || hit[i - 1] === 0) out += REDACTED;
      }
    }
    // Secrets (or forms) too short for fragments are still redacted whole.
    for (const form of short) out = out.split(form).join(REDACTED);
    return out;
  };
}

/**
 * Milliseconds the provider asks us to wait: Retry-After, or for a rate-limit
 * answer the window reset. The reset headers ride on every DigitalOcean and
 * Linode answer, so they only count when the answer was a 429.
 */
export function serverRequestedDelayMs(
  headers: Headers,
  now: number,
  rateLimited: boolean,
): number | undefined {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter !== undefined && retryAfter !== "") {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  if (!rateLimited) return undefined;
  // Without Retry-After, the reset time only applies when the window is used
  // up: DigitalOcean's headers describe its hourly window, and a 429 from its
  // per-minute limit is better met with backoff than with an hour's wait.
  return exhaustedWindowResetMs(headers, now);
}

/** Milliseconds until the rate-limit window resets, when the answer says none is left. */
export function exhaustedWindowResetMs(headers: Headers, now: number): number | undefined {
  // DigitalOcean: ratelimit-*; Linode: X-RateLimit-*. Reset is in epoch seconds.
  const remaining = headers.get("ratelimit-remaining") ?? headers.get("x-ratelimit-remaining");
  const reset = headers.get("ratelimit-reset") ?? headers.get("x-ratelimit-reset");
  if (remaining === null || reset === null || Number(remaining) > 0) return undefined;
  if (!Number.isFinite(Number(reset))) return undefined;
  return Math.max(0, Number(reset) * 1000 - now);
}

/**
 * Whether a 404's body is the provider's own "not found" envelope, as opposed
 * to a proxy's or a misconfigured base URL's page: only the provider saying
 * so makes an item gone.
 */
export function isProviderNotFound(provider: Provider, body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (!isObject(parsed)) return false;
  switch (provider) {
    case "digitalocean":
      return parsed.id === "not_found";
    case "linode":
      return Array.isArray(parsed.errors) && parsed.errors.length > 0 && parsed.errors.every(isObject);
    case "vultr":
      return typeof parsed.error === "string" && parsed.status === 404;
  }
}

/**
 * Whether a refusal says the token lacks the endpoint's scope rather than
 * being no good at all. Linode answers both with 401: "Invalid Token" for a
 * bad one, "Your OAuth token is not authorized to use this endpoint." for a
 * good one without the scope (a personal access token with Volumes set to no
 * access). The others answer a missing scope with 403, which already counts
 * as access denied.
 */
export function isScopeRefusal(provider: Provider, status: number, body: string): boolean {
  if (provider !== "linode" || status !== 401) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (!isObject(parsed) || !Array.isArray(parsed.errors) || parsed.errors.length === 0) return false;
  return parsed.errors.every(
    (e) => isObject(e) && typeof e.reason === "string" && /not authorized to use this endpoint/i.test(e.reason),
  );
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One page of a listing: its 0-based position, and its items. */
type Page<T> = { index: number; items: T[] };

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export class ProviderClient {
  readonly provider: Provider;
  readonly baseUrl: string;
  private readonly token: string;
  private readonly policy: RetryPolicy;
  // When this sync's time budget ends (ms since the epoch): the S3 listings,
  // which do not go through this client, keep to it too.
  readonly deadline: number;
  private readonly concurrency: number;
  private readonly maxBodyBytes: number;
  private readonly maxItems: number;
  private readonly sleep: (ms: number) => Promise<void>;
  // Set when an answer said the rate-limit window is used up: no request
  // starts before the window resets, so concurrent pages do not pile up 429s.
  readonly pace: Pace;
  // 404s whose body was the provider's own "not found" (see getItem).
  private readonly notFound = new WeakSet<ProviderError>();
  // The dock's S3 key pair, if it holds one (ClientOptions.s3Key).
  readonly s3Key: S3KeyPair | undefined;

  constructor(options: ClientOptions) {
    this.provider = options.provider;
    this.baseUrl = (options.baseUrl ?? baseUrlFor(options.provider)).replace(/\/+$/, "");
    this.token = options.token;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_PAGE_CONCURRENCY);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxItems = options.maxItems ?? DEFAULT_MAX_LISTING_ITEMS;
    this.sleep = options.sleep ?? defaultSleep;
    this.pace = options.pace ?? { pausedUntil: 0 };
    this.s3Key = options.s3Key;
  }

  // Every text an error carries passes through here: a provider (or a proxy,
  // or a network stack) may echo what it was sent, and the token must not travel on.
  private error(endpoint: string, status: number | null, message: string, retryable: boolean) {
    return new ProviderError(this.provider, endpoint, status, redactSecret(message, this.token), retryable);
  }

  private incomplete(endpoint: string, message: string) {
    return new IncompleteListingError(this.provider, endpoint, message);
  }

  private tooLarge(endpoint: string, status: number, detail: string) {
    return new ResponseTooLargeError(
      this.provider,
      endpoint,
      status,
      `the answer is larger than ${this.maxBodyBytes} bytes (${detail}); it was not read`,
    );
  }

  // The body, cut off at maxBodyBytes (readCappedBody).
  private async readBody(endpoint: string, response: Response): Promise<string> {
    return await readCappedBody(response, this.maxBodyBytes, (detail) =>
      this.tooLarge(endpoint, response.status, detail),
    );
  }

  private async attempt(endpoint: string, query: Record<string, string>, cancel?: AbortSignal): Promise<Json> {
    if (Date.now() >= this.deadline) {
      throw this.error(endpoint, null, "this sync's time budget ran out before the request", false);
    }
    const pause = this.pace.pausedUntil - Date.now();
    if (pause > 0) {
      if (Date.now() + pause >= this.deadline) {
        throw this.error(endpoint, 429, "the rate limit resets after this sync's time budget", false);
      }
      await this.sleep(pause);
    }
    if (cancel?.aborted) throw this.error(endpoint, null, "the listing was stopped", false);
    const url = new URL(this.baseUrl + endpoint);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const remaining = this.deadline - Date.now();
    const timeoutMs = Math.max(1, Math.min(this.policy.timeoutMs, remaining));
    let response: Response;
    let body: string;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const stop = () => controller.abort();
    cancel?.addEventListener("abort", stop);
    try {
      response = await fetch(url, {
        method: "GET",
        headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json" },
        signal: controller.signal,
      });
      body = await this.readBody(endpoint, response);
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      if (cancel?.aborted) throw this.error(endpoint, null, "the listing was stopped", false);
      throw this.error(
        endpoint,
        null,
        timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${(e as Error).message}`,
        true,
      );
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener("abort", stop);
    }
    // One clock reading for the pause and the retry wait, so a retry that
    // waited out the window does not then wait a millisecond more.
    const answeredAt = Date.now();
    const exhausted = exhaustedWindowResetMs(response.headers, answeredAt);
    if (exhausted !== undefined) this.pace.pausedUntil = Math.max(this.pace.pausedUntil, answeredAt + exhausted);
    if (!response.ok) {
      const err = this.error(
        endpoint,
        response.status,
        parseProviderMessage(this.provider, body, this.token),
        RETRYABLE_STATUS.has(response.status),
      );
      err.retryAfterMs = serverRequestedDelayMs(response.headers, answeredAt, response.status === 429);
      if (response.status === 404 && isProviderNotFound(this.provider, body)) this.notFound.add(err);
      if (isScopeRefusal(this.provider, response.status, body)) err.scopeRefused = true;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      // A cut-off or garbled body is usually a transfer fault: worth a retry.
      // Its text stays out of the message (the dock stores it; what the
      // sync's users see is already named here).
      throw this.error(endpoint, response.status, "the answer is not valid JSON", true);
    }
    return parsed;
  }

  private async request(endpoint: string, query: Record<string, string>, cancel?: AbortSignal): Promise<Json> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(endpoint, query, cancel);
      } catch (e) {
        if (!(e instanceof ProviderError) || !e.retryable || attempt >= this.policy.maxAttempts) {
          throw e;
        }
        const backoff = Math.min(
          this.policy.maxDelayMs,
          this.policy.baseDelayMs * 2 ** (attempt - 1),
        );
        // Full jitter spreads retries of concurrent requests apart.
        const jittered = backoff / 2 + Math.random() * (backoff / 2);
        const wait = e.retryAfterMs !== undefined ? e.retryAfterMs : jittered;
        if (Date.now() + wait >= this.deadline) throw e;
        await this.sleep(wait);
        if (cancel?.aborted) throw e;
      }
    }
  }

  /** One GET with timeout and bounded retries (429, 5xx, network errors, timeouts, bad JSON). */
  async getJson(endpoint: string, query: Record<string, string> = {}): Promise<Json> {
    return await this.request(endpoint, query);
  }

  /**
   * One item: `body[key]` of a 200 (the whole body when key is WHOLE_BODY),
   * null on a 404 in the provider's own envelope (the item is gone). Same
   * retries and timeouts as a listing; any other failure, a 404 that is not
   * the provider's included, throws ProviderError.
   */
  async getItem<T = unknown>(endpoint: string, key: string): Promise<T | null> {
    let body: Json;
    try {
      body = await this.request(endpoint, {});
    } catch (e) {
      if (e instanceof ProviderError && this.notFound.has(e)) return null;
      throw e;
    }
    if (key === WHOLE_BODY) return body as T;
    const item = Object.hasOwn(body, key) ? body[key] : undefined;
    if (!isObject(item)) throw this.error(endpoint, 200, `the answer has no "${key}" item`, false);
    return item as T;
  }

  /**
   * Every item of a list endpoint, following the provider's paging to the end,
   * in the provider's order. A listing whose total moved while it was read may
   * have skipped or repeated items (offset paging shifts), so it is read once
   * more before giving up with ListingChangedError.
   */
  async listAll<T>(endpoint: string, key: string): Promise<T[]> {
    for (let round = 1; ; round++) {
      try {
        const pages: T[][] = [];
        for await (const page of this.pagesOf<T>(endpoint, key)) pages[page.index] = page.items;
        return pages.flat();
      } catch (e) {
        if (e instanceof ListingChangedError && round < 2) continue;
        throw e;
      }
    }
  }

  /**
   * A listing page by page, each page's items as soon as they arrive (numbered
   * pages in any order). Returning normally means every page came and they add
   * up to the listing's total; otherwise it throws (IncompleteListingError when
   * the paging itself does not add up). Stopping early starts no more requests.
   */
  async *pages<T>(endpoint: string, key: string): AsyncGenerator<T[], void, undefined> {
    for await (const page of this.pagesOf<T>(endpoint, key)) yield page.items;
  }

  private pagesOf<T>(endpoint: string, key: string): AsyncGenerator<Page<T>, void, undefined> {
    return this.provider === "vultr" ? this.byCursor<T>(endpoint, key) : this.byNumber<T>(endpoint, key);
  }

  private itemsOf<T>(endpoint: string, body: Json, key: string): T[] {
    const items = body[key];
    if (!Array.isArray(items)) {
      throw this.error(endpoint, 200, `the answer has no "${key}" list`, false);
    }
    return items as T[];
  }

  private checkSize(endpoint: string, total: number) {
    if (total > this.maxItems) {
      throw new ListingTooLargeError(
        this.provider,
        endpoint,
        `the listing reports ${total} items, more than the ${this.maxItems} a sync reads`,
      );
    }
  }

  private changed(endpoint: string, before: number, now: number) {
    return new ListingChangedError(
      this.provider,
      endpoint,
      `the listing changed while it was read (total ${before}, then ${now})`,
    );
  }

  // The total a numbered page reports, once its paging data is checked.
  private numberedTotal(endpoint: string, body: Json, page: number, size: number): number {
    if (this.provider === "digitalocean") {
      const total = isObject(body.meta) ? body.meta.total : undefined;
      if (!isCount(total)) throw this.incomplete(endpoint, `page ${page} has no usable meta.total`);
      return total;
    }
    const { page: answered, pages, results } = body;
    if (!isCount(answered) || !isCount(pages) || !isCount(results)) {
      throw this.incomplete(endpoint, `page ${page} has no usable page, pages and results`);
    }
    if (answered !== page) throw this.incomplete(endpoint, `page ${page} was answered as page ${answered}`);
    const implied = Math.max(1, Math.ceil(results / size));
    if (pages !== implied && !(pages === 0 && results === 0)) {
      throw this.incomplete(endpoint, `page ${page} reports ${pages} pages where ${results} results make ${implied}`);
    }
    return results;
  }

  // DigitalOcean and Linode: numbered pages. Page 1 tells the total, so the
  // remaining pages are fetched a few at a time. Each page must hold exactly
  // what the total implies for its place, so a lying total (or a pager that
  // lost items) is noticed on the first page that shows it, with at most
  // `concurrency` requests already under way.
  private async *byNumber<T>(endpoint: string, key: string): AsyncGenerator<Page<T>, void, undefined> {
    const size = PAGE_SIZE[this.provider];
    const sizeParam = this.provider === "linode" ? "page_size" : "per_page";
    const cancel = new AbortController();
    const fetchPage = async (page: number) => {
      const body = await this.request(endpoint, { page: String(page), [sizeParam]: String(size) }, cancel.signal);
      return { items: this.itemsOf<T>(endpoint, body, key), total: this.numberedTotal(endpoint, body, page, size) };
    };
    const first = await fetchPage(1);
    const total = first.total;
    this.checkSize(endpoint, total);
    const pageCount = Math.max(1, Math.ceil(total / size));
    const check = (page: number, got: { items: T[]; total: number }) => {
      if (got.total !== total) throw this.changed(endpoint, total, got.total);
      const expected = Math.max(0, Math.min(size, total - (page - 1) * size));
      if (got.items.length !== expected) {
        throw this.incomplete(
          endpoint,
          `page ${page} of ${pageCount} has ${got.items.length} items where a total of ${total} makes ${expected}`,
        );
      }
    };
    check(1, first);
    // Pages of large items: fewer in flight, so the pages held at once stay
    // near PAGE_MEMORY_BUDGET whatever the item size (an action has 64 MiB).
    // The window follows the largest page seen so far, and opens past one
    // page only once a page after the first has shown its size: a small
    // page 1 must not let six huge pages in at once.
    let largestPage = Math.max(1, JSON.stringify(first.items).length);
    let sizedPages = 0;
    const windowNow = () =>
      Math.max(
        1,
        Math.min(this.concurrency, sizedPages === 0 ? 1 : this.concurrency, Math.floor(PAGE_MEMORY_BUDGET / largestPage)),
      );

    // Settled pages not yet handed out, and requests under way: together never
    // more than the window, so memory holds a few pages, not the listing.
    type Settled = { page: number; ok: true; items: T[] } | { page: number; ok: false; error: unknown };
    const ready: Settled[] = [];
    let inFlight = 0;
    let nextPage = 2;
    let failed = false;
    let wake: (() => void) | undefined;
    const launch = () => {
      while (!failed && !cancel.signal.aborted && nextPage <= pageCount && inFlight + ready.length < windowNow()) {
        const page = nextPage++;
        inFlight++;
        void fetchPage(page)
          .then((got): Settled => {
            check(page, got);
            largestPage = Math.max(largestPage, JSON.stringify(got.items).length);
            sizedPages++;
            return { page, ok: true, items: got.items };
          })
          .catch((error: unknown): Settled => ({ page, ok: false, error }))
          .then((settled) => {
            inFlight--;
            if (!settled.ok) failed = true;
            ready.push(settled);
            wake?.();
          });
      }
    };
    try {
      // Requests go out before each page is handed over, so the next pages
      // arrive while the consumer works on this one.
      launch();
      yield { index: 0, items: first.items };
      for (let handed = 1; handed < pageCount; handed++) {
        launch();
        while (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const failure = ready.findIndex((s) => !s.ok);
        const settled = ready.splice(failure >= 0 ? failure : 0, 1)[0];
        if (!settled.ok) throw settled.error;
        launch();
        yield { index: settled.page - 1, items: settled.items };
      }
    } finally {
      // A failure, or a consumer that stopped early: requests under way are
      // abandoned and none of them retries.
      cancel.abort();
    }
  }

  // Vultr: an opaque cursor in meta.links.next, empty on the last page; the
  // pages must be read in order. Every page must be full until the last, the
  // total must hold, and a cursor seen before means the pager is going round.
  private async *byCursor<T>(endpoint: string, key: string): AsyncGenerator<Page<T>, void, undefined> {
    const size = PAGE_SIZE.vultr;
    const cancel = new AbortController();
    const seen = new Set<string>();
    let cursor = "";
    let total: number | undefined;
    let read = 0;
    try {
      for (let index = 0; ; index++) {
        const query: Record<string, string> = { per_page: String(size) };
        if (cursor !== "") query.cursor = cursor;
        const body = await this.request(endpoint, query, cancel.signal);
        const items = this.itemsOf<T>(endpoint, body, key);
        const page = index + 1;
        const meta = isObject(body.meta) ? body.meta : {};
        const links = isObject(meta.links) ? meta.links : {};
        if (!isCount(meta.total)) throw this.incomplete(endpoint, `page ${page} has no usable meta.total`);
        if (typeof links.next !== "string") throw this.incomplete(endpoint, `page ${page} has no meta.links.next`);
        const next = links.next;
        if (total === undefined) {
          total = meta.total;
          this.checkSize(endpoint, total);
        } else if (meta.total !== total) {
          // An item removed mid-walk shifts the later pages; only the moved
          // total shows that one was missed.
          throw this.changed(endpoint, total, meta.total);
        }
        read += items.length;
        if (items.length > size) {
          throw this.incomplete(endpoint, `page ${page} has ${items.length} items, more than the ${size} asked for`);
        }
        if (next === "") {
          if (read !== total) {
            throw this.incomplete(endpoint, `the last page (${page}) ends at ${read} items where the total is ${total}`);
          }
          yield { index, items };
          return;
        }
        if (items.length < size) {
          throw this.incomplete(endpoint, `page ${page} has ${items.length} items and is not the last`);
        }
        if (read >= total) {
          throw this.incomplete(endpoint, `more pages follow page ${page} though its ${read} items reach the total`);
        }
        if (seen.has(next) || next === cursor) {
          throw this.incomplete(endpoint, `the paging cursor after page ${page} goes back to an earlier page`);
        }
        seen.add(next);
        yield { index, items };
        cursor = next;
      }
    } finally {
      cancel.abort();
    }
  }
}
