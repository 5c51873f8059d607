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

  constructor(
    readonly provider: Provider,
    readonly endpoint: string,
    // null when no HTTP answer came back (network error, timeout).
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
  sleep?: (ms: number) => Promise<void>;
};

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

/** The provider's own error text from its envelope, or a short excerpt of the body. */
export function parseProviderMessage(provider: Provider, body: string): string {
  const message = providerMessageOf(provider, body);
  return message.length <= MAX_PROVIDER_MESSAGE ? message : `${message.slice(0, MAX_PROVIDER_MESSAGE - 1)}…`;
}

function providerMessageOf(provider: Provider, body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isObject(parsed)) {
    if (provider === "digitalocean" && typeof parsed.message === "string") {
      return typeof parsed.id === "string" ? `${parsed.message} (${parsed.id})` : parsed.message;
    }
    if (provider === "linode" && Array.isArray(parsed.errors)) {
      const reasons = parsed.errors
        .filter(isObject)
        .map((e) => (typeof e.field === "string" ? `${e.field}: ${String(e.reason)}` : String(e.reason)));
      if (reasons.length > 0) return reasons.join("; ");
    }
    if (provider === "vultr" && typeof parsed.error === "string" && parsed.error !== "") {
      return parsed.error;
    }
  }
  const text = body.trim().slice(0, 200);
  return text === "" ? "no error message" : text;
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

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ProviderClient {
  readonly provider: Provider;
  readonly baseUrl: string;
  private readonly token: string;
  private readonly policy: RetryPolicy;
  private readonly deadline: number;
  private readonly concurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  // Set when an answer said the rate-limit window is used up: no request
  // starts before the window resets, so concurrent pages do not pile up 429s.
  private pausedUntil = 0;

  constructor(options: ClientOptions) {
    this.provider = options.provider;
    this.baseUrl = (options.baseUrl ?? baseUrlFor(options.provider)).replace(/\/+$/, "");
    this.token = options.token;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_PAGE_CONCURRENCY);
    this.sleep = options.sleep ?? defaultSleep;
  }

  private error(endpoint: string, status: number | null, message: string, retryable: boolean) {
    // A provider may echo what it was sent; the token must not travel on.
    const safe = message.split(this.token).join("[redacted]");
    return new ProviderError(this.provider, endpoint, status, safe, retryable);
  }

  private async attempt(endpoint: string, query: Record<string, string>): Promise<Json> {
    if (Date.now() >= this.deadline) {
      throw this.error(endpoint, null, "this sync's time budget ran out before the request", false);
    }
    const pause = this.pausedUntil - Date.now();
    if (pause > 0) {
      if (Date.now() + pause >= this.deadline) {
        throw this.error(endpoint, 429, "the rate limit resets after this sync's time budget", false);
      }
      await this.sleep(pause);
    }
    const url = new URL(this.baseUrl + endpoint);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const remaining = this.deadline - Date.now();
    const timeoutMs = Math.max(1, Math.min(this.policy.timeoutMs, remaining));
    let response: Response;
    let body: string;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      response = await fetch(url, {
        method: "GET",
        headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json" },
        signal: controller.signal,
      });
      body = await response.text();
    } catch (e) {
      const timedOut = controller.signal.aborted;
      throw this.error(
        endpoint,
        null,
        timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${(e as Error).message}`,
        true,
      );
    } finally {
      clearTimeout(timer);
    }
    // One clock reading for the pause and the retry wait, so a retry that
    // waited out the window does not then wait a millisecond more.
    const answeredAt = Date.now();
    const exhausted = exhaustedWindowResetMs(response.headers, answeredAt);
    if (exhausted !== undefined) this.pausedUntil = Math.max(this.pausedUntil, answeredAt + exhausted);
    if (!response.ok) {
      const err = this.error(
        endpoint,
        response.status,
        parseProviderMessage(this.provider, body),
        RETRYABLE_STATUS.has(response.status),
      );
      err.retryAfterMs = serverRequestedDelayMs(response.headers, answeredAt, response.status === 429);
      throw err;
    }
    try {
      const parsed: unknown = JSON.parse(body);
      if (!isObject(parsed)) throw new Error("not an object");
      return parsed;
    } catch {
      // A cut-off or garbled body is usually a transfer fault: worth a retry.
      throw this.error(endpoint, response.status, "the answer is not valid JSON", true);
    }
  }

  /** One GET with timeout and bounded retries (429, 5xx, network errors, timeouts, bad JSON). */
  async getJson(endpoint: string, query: Record<string, string> = {}): Promise<Json> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(endpoint, query);
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
      }
    }
  }

  /** Every item of a list endpoint, following the provider's paging to the end. */
  async listAll<T>(endpoint: string, key: string): Promise<T[]> {
    // A listing whose total moved while it was read may have skipped or repeated
    // items (offset paging shifts); read it once more before giving up.
    for (let round = 1; ; round++) {
      try {
        return await this.listOnce<T>(endpoint, key);
      } catch (e) {
        if (e instanceof ListingChangedError && round < 2) continue;
        throw e;
      }
    }
  }

  private async listOnce<T>(endpoint: string, key: string): Promise<T[]> {
    switch (this.provider) {
      case "vultr":
        return await this.listByCursor<T>(endpoint, key);
      case "digitalocean":
        return await this.listByPage<T>(endpoint, key, "per_page", (body) => {
          const meta = isObject(body.meta) ? body.meta : {};
          return typeof meta.total === "number" ? meta.total : undefined;
        });
      case "linode":
        return await this.listByPage<T>(endpoint, key, "page_size", (body) =>
          typeof body.results === "number" ? body.results : undefined,
        );
    }
  }

  private itemsOf<T>(endpoint: string, body: Json, key: string): T[] {
    const items = body[key];
    if (!Array.isArray(items)) {
      throw this.error(endpoint, 200, `the answer has no "${key}" list`, false);
    }
    return items as T[];
  }

  // Vultr: an opaque cursor in meta.links.next, empty on the last page; the
  // pages must be read in order.
  private async listByCursor<T>(endpoint: string, key: string): Promise<T[]> {
    const all: T[] = [];
    let cursor = "";
    // Every page's total, not only the last: an item removed mid-walk shifts
    // the later pages, and only an earlier total shows that one was missed.
    const totals: number[] = [];
    for (;;) {
      const query: Record<string, string> = { per_page: String(PAGE_SIZE.vultr) };
      if (cursor !== "") query.cursor = cursor;
      const body = await this.getJson(endpoint, query);
      all.push(...this.itemsOf<T>(endpoint, body, key));
      const meta = isObject(body.meta) ? body.meta : {};
      if (typeof meta.total === "number") totals.push(meta.total);
      const links = isObject(meta.links) ? meta.links : {};
      const next = typeof links.next === "string" ? links.next : "";
      if (next === "") break;
      if (next === cursor) {
        throw this.error(endpoint, 200, "the paging cursor did not advance", false);
      }
      cursor = next;
    }
    for (const total of totals) this.checkTotal(endpoint, all.length, total);
    return all;
  }

  // DigitalOcean and Linode: numbered pages. Page 1 tells the total, so the
  // remaining pages are fetched a few at a time.
  private async listByPage<T>(
    endpoint: string,
    key: string,
    sizeParam: string,
    totalOf: (body: Json) => number | undefined,
  ): Promise<T[]> {
    const size = PAGE_SIZE[this.provider];
    const first = await this.getJson(endpoint, { page: "1", [sizeParam]: String(size) });
    const firstItems = this.itemsOf<T>(endpoint, first, key);
    const total = totalOf(first);
    const pageCount =
      this.provider === "linode" && typeof first.pages === "number"
        ? first.pages
        : total !== undefined
          ? Math.ceil(total / size)
          : 1;
    const pages: T[][] = [firstItems];
    const totals: (number | undefined)[] = [total];
    let nextPage = 2;
    const worker = async () => {
      while (nextPage <= pageCount) {
        const page = nextPage++;
        const body = await this.getJson(endpoint, { page: String(page), [sizeParam]: String(size) });
        pages[page - 1] = this.itemsOf<T>(endpoint, body, key);
        totals[page - 1] = totalOf(body);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, Math.max(0, pageCount - 1)) }, worker),
    );
    const all = pages.flat();
    for (const t of totals) this.checkTotal(endpoint, all.length, t);
    return all;
  }

  private checkTotal(endpoint: string, count: number, total: number | undefined) {
    if (total !== undefined && total !== count) {
      throw new ListingChangedError(
        this.provider,
        endpoint,
        `the listing changed while it was read (${count} items read, ${total} reported)`,
      );
    }
  }
}

/** The provider's list moved under the pager; some items may have been skipped. */
export class ListingChangedError extends ProviderError {
  constructor(provider: Provider, endpoint: string, message: string) {
    super(provider, endpoint, null, message, false);
    this.name = "ListingChangedError";
  }
}
