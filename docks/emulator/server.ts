// HTTP emulator of the Vultr, DigitalOcean and Linode list endpoints on 127.0.0.1: real envelopes,
// paging, auth errors, rate limits and injectable faults, for tests, the benchmark and the demo.
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import { clearTimeout, setTimeout } from "node:timers";
import { defaultAccounts, LINODE_VOLUME_TYPES, PROVIDERS, type Provider, type ProviderAccount } from "./accounts";

export type { Provider, ProviderAccount } from "./accounts";

export type FaultKind =
  | "429"
  | "500"
  | "503"
  | "401"
  | "403" // a key without the scope for this resource type
  | "timeout"
  | "malformed"
  | "missing-id"
  // Paging data a broken or hostile pager might send:
  | "no-total" // DigitalOcean/Vultr without meta.total; Linode without page, pages and results
  | "bad-total" // `total` reported instead of the real count (links and Linode `pages` follow a numeric one)
  | "bad-pages" // Linode: `pages` reported instead of the one results implies
  | "no-next" // Vultr: meta.links.next left out
  | "cycle-cursor" // Vultr: meta.links.next points back to page 2's cursor
  | "short-page" // the page's last item left out, the total unchanged
  // Bodies a client must not swallow whole or pass on:
  | "huge-body" // a 200 of `bytes` bytes, streamed
  | "echo-token" // an error whose message echoes the request's token at `at`
  // A good token without the endpoint's scope, as the provider refuses it (Linode: 401 "Your
  // OAuth token is not authorized to use this endpoint."; the others: 403).
  | "no-scope";

/** How an "echo-token" fault repeats the token it was sent. */
export type TokenEcho = "plain" | "partial" | "base64" | "base64-bearer" | "url" | "hex";

export interface Fault {
  provider: Provider;
  /** Provider-relative path without query, e.g. "/v2/volumes". */
  path: string;
  /** 1-based page (DigitalOcean/Linode `page`; Vultr: offset / per_page + 1). Default: any page. */
  page?: number;
  kind: FaultKind;
  /** Matching requests it hits; default 1, Infinity for a persistent fault. */
  times?: number;
  /** Retry-After for "429"; default 1. */
  retryAfterSeconds?: number;
  /** Stall for "timeout" before answering normally; default 30_000. */
  delayMs?: number;
  /** "bad-total": the reported total, any JSON value; default 10_000_000. */
  total?: unknown;
  /** "bad-pages": Linode's reported `pages`; default one more than results implies. */
  pages?: unknown;
  /** "huge-body": bytes sent; default 256 MiB (sent only as fast as the client reads). */
  bytes?: number;
  /** "huge-body": announce Content-Length; default true. */
  contentLength?: boolean;
  /** "echo-token": the form of the echo; default "plain". */
  echo?: TokenEcho;
  /** "echo-token": where the echo starts in the provider's message; default 290 (across the 300th character). */
  at?: number;
  /** "echo-token": the answer's status; default 400. A 200 carries the echo as a body that is not JSON. */
  status?: number;
}

export interface RequestRecord {
  provider: Provider;
  method: string;
  /** Provider-relative path, e.g. "/v2/blocks". */
  path: string;
  query: Record<string, string>;
  /** 0 while the answer is pending, and for requests dropped before an answer (client gone, close()). */
  status: number;
  /** Arrival time, epoch ms. */
  at: number;
}

export interface Emulator {
  baseUrls: Record<Provider, string>;
  /**
   * Where Vultr S3 requests go (VULTR_S3_URL): `<this>/<s3_hostname>/` is that host's
   * ListBuckets, signature checked with the subscription's keys.
   */
  vultrS3Url: string;
  /**
   * Where DigitalOcean Spaces requests go (DIGITALOCEAN_SPACES_URL): `<this>/<region>.digitaloceanspaces.com/`
   * is that region's ListBuckets, signature checked (credential scope: that region) with the
   * account's Spaces key pair.
   */
  digitaloceanSpacesUrl: string;
  /** "missing": GET /v2/object-storage/{id}/bucket answers 404, as where Vultr does not serve it yet. */
  vultrBucketEndpoint: "available" | "missing";
  /**
   * S3 checks a signature made with this access key against this secret instead of the
   * subscription's (a key regenerated at Vultr after the listing read it); null: S3 does not
   * know the access key at all (InvalidAccessKeyId).
   */
  vultrS3SecretOverrides: Record<string, string | null>;
  port: number;
  /** Live: replacing an entry (or calling setAccount) changes what the next request sees. */
  accounts: Record<Provider, ProviderAccount>;
  setAccount(provider: Provider, account: ProviderAccount): void;
  addFault(fault: Fault): void;
  clearFaults(): void;
  /** Every request served, in arrival order. */
  requests: RequestRecord[];
  countRequests(filter?: { provider?: Provider; path?: string; status?: number }): number;
  resetRequests(): void;
  /** Closes every socket, stalled ones included. */
  close(): Promise<void>;
}

export interface RateLimitConfig {
  limit: number;
  windowMs: number;
}

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Providers left out get their default account. */
  accounts?: Partial<Record<Provider, ProviderAccount>>;
  /** Delay added before every answer. */
  latencyMs?: number;
  /** Enforced fixed window per provider; off unless given. */
  rateLimit?: Partial<Record<Provider, RateLimitConfig>>;
  /** Vultr's bucket endpoint: "missing" answers 404 (see Emulator.vultrBucketEndpoint). */
  vultrBucketEndpoint?: "available" | "missing";
}

interface Answer {
  status: number;
  body: unknown;
  /** Sent instead of JSON.stringify(body) (the "malformed" fault). */
  raw?: string;
  /** Streamed instead of a body (the "huge-body" fault). */
  stream?: { bytes: number; contentLength: boolean };
  headers?: Record<string, string>;
}

type Query = Record<string, string>;

// ---------------------------------------------------------------------------
// Provider dialects: error bodies, paging and envelopes

const VULTR_MESSAGES: Record<number, string> = {
  400: "Invalid request.",
  401: "Invalid or missing API token.",
  403: "Unauthorized access.",
  404: "Not found.",
  405: "Method not allowed.",
  429: "Rate limit reached - please try your request again later.",
  500: "Internal server error, please try again later.",
  503: "Service temporarily unavailable, please try again later.",
};

const DO_ERRORS: Record<number, { id: string; message: string }> = {
  400: { id: "bad_request", message: "The request was invalid." },
  401: { id: "unauthorized", message: "Unable to authenticate you." },
  403: { id: "forbidden", message: "You do not have access for the attempted action." },
  404: { id: "not_found", message: "The resource you requested could not be found." },
  405: { id: "method_not_allowed", message: "Method not allowed for this resource." },
  429: { id: "too_many_requests", message: "API rate limit exceeded." },
  500: { id: "server_error", message: "Server was unable to give you a response." },
  503: { id: "service_unavailable", message: "The service is temporarily unavailable. Please try again." },
};

// What Linode answers (with 401) a working token that lacks the endpoint's OAuth scope.
const LINODE_NO_SCOPE = "Your OAuth token is not authorized to use this endpoint.";

const LINODE_REASONS: Record<number, string> = {
  400: "Invalid request",
  401: "Invalid Token",
  403: "Unauthorized",
  404: "Not found",
  405: "Method Not Allowed",
  429: "Too many requests",
  500: "Please try again",
  503: "Service Unavailable",
};

function errorAnswer(provider: Provider, status: number, detail?: { message?: string; field?: string }): Answer {
  switch (provider) {
    case "vultr":
      return { status, body: { error: detail?.message ?? VULTR_MESSAGES[status] ?? "Error.", status } };
    case "digitalocean": {
      const known = DO_ERRORS[status] ?? { id: "server_error", message: "Unexpected error." };
      return { status, body: { id: known.id, message: detail?.message ?? known.message } };
    }
    case "linode": {
      const reason = detail?.message ?? LINODE_REASONS[status] ?? "Error";
      return { status, body: { errors: [detail?.field ? { reason, field: detail.field } : { reason }] } };
    }
  }
}

function noScopeAnswer(provider: Provider): Answer {
  return provider === "linode" ? errorAnswer("linode", 401, { message: LINODE_NO_SCOPE }) : errorAnswer(provider, 403);
}

interface ListRoute {
  kind: "list";
  /** Envelope key for Vultr/DigitalOcean (Linode always uses "data"). */
  key: string;
  items: (account: ProviderAccount) => Record<string, unknown>[];
  /** Field the "missing-id" fault removes. */
  idField: string;
  /** Answered without checking the token (a provider's public list). */
  public?: boolean;
}

interface SingleRoute {
  kind: "single";
  body: (account: ProviderAccount) => unknown;
}

type Route = ListRoute | SingleRoute;

/** GET of one item by its path parts; a missing item is the provider's 404. */
interface ItemRoute {
  pattern: RegExp;
  find: (account: ProviderAccount, parts: string[]) => Record<string, unknown> | undefined;
  /** The 200 body around the item: an envelope key, or the item itself (Linode). */
  key: string | null;
}

function byId(list: (a: ProviderAccount) => Record<string, unknown>[]) {
  return (account: ProviderAccount, [id]: string[]) => list(account).find((item) => String(item.id) === id);
}

/** Where a list request starts and how many items it takes; `page` is the 1-based ordinal. */
interface Window {
  offset: number;
  size: number;
  page: number;
}

interface Dialect {
  routes: Record<string, Route>;
  items: ItemRoute[];
  /** Parses paging parameters, or answers 400. */
  paging(query: Query): Window | Answer;
  envelope(route: ListRoute, items: Record<string, unknown>[], total: number, window: Window, self: SelfLink): unknown;
}

interface SelfLink {
  origin: string;
  path: string;
  query: Query;
}

function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && Number.isSafeInteger(n) ? n : undefined;
}

const VULTR_CURSOR = /^(next|prev)__(\d+)$/;

function vultrCursor(direction: "next" | "prev", offset: number): string {
  return Buffer.from(`${direction}__${offset}`, "utf8").toString("base64");
}

const vultr: Dialect = {
  routes: {
    "/v2/instances": { kind: "list", key: "instances", items: (a) => a.servers, idField: "id" },
    "/v2/blocks": { kind: "list", key: "blocks", items: (a) => a.volumes, idField: "id" },
    "/v2/object-storage": { kind: "list", key: "object_storages", items: (a) => a.objectStorages ?? [], idField: "id" },
    "/v2/account": {
      kind: "single",
      body: (a) => {
        let pending = 0;
        for (const v of a.volumes) pending += typeof v.pending_charges === "number" ? v.pending_charges : 0;
        // Vultr's account answer carries no id; the email is what tells two accounts apart.
        return {
          account: {
            name: a.owner.username,
            email: a.owner.email,
            acls: [],
            balance: -25,
            pending_charges: Math.round(pending * 100) / 100,
            last_payment_date: "2025-10-01T09:15:00+00:00",
            last_payment_amount: -25,
          },
        };
      },
    },
  },
  items: [
    { pattern: /^\/v2\/blocks\/([^/]+)$/, find: byId((a) => a.volumes), key: "block" },
    { pattern: /^\/v2\/instances\/([^/]+)$/, find: byId((a) => a.servers), key: "instance" },
    { pattern: /^\/v2\/object-storage\/([^/]+)$/, find: byId((a) => a.objectStorages ?? []), key: "object_storage" },
    {
      pattern: /^\/v2\/object-storage\/([^/]+)\/bucket$/,
      find: (a, [id]) =>
        (a.objectStorages ?? []).some((s) => s.id === id)
          ? {
              // The bucket as stored, less the emulator's own link to its subscription.
              buckets: a.buckets
                .filter((b) => b.object_storage_id === id)
                .map((b) => Object.fromEntries(Object.entries(b).filter(([k]) => k !== "object_storage_id"))),
            }
          : undefined,
      key: null,
    },
  ],
  paging(query) {
    const requested = positiveInt(query.per_page) ?? 100;
    const size = Math.min(requested, 500);
    let offset = 0;
    if (query.cursor !== undefined && query.cursor !== "") {
      const match = VULTR_CURSOR.exec(Buffer.from(query.cursor, "base64").toString("utf8"));
      if (!match) return errorAnswer("vultr", 400, { message: "Invalid cursor." });
      offset = Number(match[2]);
    }
    return { offset, size, page: Math.floor(offset / size) + 1 };
  },
  envelope(route, items, total, w) {
    const nextOffset = w.offset + w.size;
    return {
      [route.key]: items,
      meta: {
        total,
        links: {
          next: nextOffset < total ? vultrCursor("next", nextOffset) : "",
          prev: w.offset > 0 ? vultrCursor("prev", Math.max(0, w.offset - w.size)) : "",
        },
      },
    };
  },
};

const digitalocean: Dialect = {
  routes: {
    "/v2/droplets": { kind: "list", key: "droplets", items: (a) => a.servers, idField: "id" },
    "/v2/volumes": { kind: "list", key: "volumes", items: (a) => a.volumes, idField: "id" },
    "/v2/account": {
      kind: "single",
      body: (a) => ({
        account: {
          droplet_limit: 25,
          floating_ip_limit: 3,
          volume_limit: Math.max(100, a.volumes.length),
          email: a.owner.email,
          uuid: a.owner.uuid,
          email_verified: true,
          status: "active",
          status_message: "",
          // A user outside any team gets no `team` object.
          ...(a.owner.teamUuid !== undefined && { team: { uuid: a.owner.teamUuid, name: "Storage Team" } }),
        },
      }),
    },
  },
  items: [
    { pattern: /^\/v2\/volumes\/([^/]+)$/, find: byId((a) => a.volumes), key: "volume" },
    { pattern: /^\/v2\/droplets\/([^/]+)$/, find: byId((a) => a.servers), key: "droplet" },
  ],
  paging(query) {
    const page = positiveInt(query.page) ?? 1;
    const size = Math.min(positiveInt(query.per_page) ?? 20, 200);
    return { offset: (page - 1) * size, size, page };
  },
  envelope(route, items, total, w, self) {
    const last = Math.max(1, Math.ceil(total / w.size));
    const link = (page: number) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(self.query)) if (k !== "page" && k !== "per_page") params.set(k, v);
      params.set("page", String(page));
      params.set("per_page", String(w.size));
      return `${self.origin}/digitalocean${self.path}?${params.toString()}`;
    };
    const pages: Record<string, string> = {};
    if (w.page > 1) {
      pages.first = link(1);
      pages.prev = link(w.page - 1);
    }
    if (w.page < last) {
      pages.next = link(w.page + 1);
      pages.last = link(last);
    }
    return { [route.key]: items, links: Object.keys(pages).length > 0 ? { pages } : {}, meta: { total } };
  },
};

const linode: Dialect = {
  routes: {
    "/v4/linode/instances": { kind: "list", key: "data", items: (a) => a.servers, idField: "id" },
    "/v4/object-storage/buckets": { kind: "list", key: "data", items: (a) => a.buckets, idField: "label" },
    "/v4/volumes": { kind: "list", key: "data", items: (a) => a.volumes, idField: "id" },
    // Public at Linode: prices need no token.
    "/v4/volumes/types": { kind: "list", key: "data", items: () => LINODE_VOLUME_TYPES.slice(), idField: "id", public: true },
    "/v4/profile": {
      kind: "single",
      body: (a) => ({
        username: a.owner.username,
        email: a.owner.email,
        timezone: "Europe/Berlin",
        email_notifications: true,
        referrals: { total: 0, completed: 0, pending: 0, credit: 0, code: "", url: "" },
        ip_whitelist_enabled: false,
        lish_auth_method: "keys_only",
        authorized_keys: null,
        two_factor_auth: true,
        restricted: false,
        authentication_type: "password",
        uid: a.owner.uid,
        verified_phone_number: null,
      }),
    },
  },
  items: [
    { pattern: /^\/v4\/linode\/instances\/([^/]+)$/, find: byId((a) => a.servers), key: null },
    { pattern: /^\/v4\/volumes\/([^/]+)$/, find: byId((a) => a.volumes), key: null },
    {
      pattern: /^\/v4\/object-storage\/buckets\/([^/]+)\/([^/]+)$/,
      find: (a, [region, label]) => a.buckets.find((b) => b.region === region && b.label === label),
      key: null,
    },
  ],
  paging(query) {
    let page = 1;
    if (query.page !== undefined) {
      const parsed = positiveInt(query.page);
      if (parsed === undefined) return errorAnswer("linode", 400, { message: "Must be a positive integer", field: "page" });
      page = parsed;
    }
    let size = 100;
    if (query.page_size !== undefined) {
      const parsed = positiveInt(query.page_size);
      if (parsed === undefined || parsed < 25 || parsed > 500) {
        return errorAnswer("linode", 400, { message: "Must be between 25 and 500", field: "page_size" });
      }
      size = parsed;
    }
    return { offset: (page - 1) * size, size, page };
  },
  envelope(_route, items, total, w) {
    return { data: items, page: w.page, pages: Math.max(1, Math.ceil(total / w.size)), results: total };
  },
};

const DIALECTS: Record<Provider, Dialect> = { vultr, digitalocean, linode };

// Header reports only: DigitalOcean's hourly budget and Linode's per-minute one.
const REPORTED_LIMITS: Record<Provider, RateLimitConfig | undefined> = {
  vultr: undefined,
  digitalocean: { limit: 5000, windowMs: 3_600_000 },
  linode: { limit: 800, windowMs: 60_000 },
};

const RATE_HEADER_NAMES: Record<Provider, [string, string, string] | undefined> = {
  vultr: undefined,
  digitalocean: ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
  linode: ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
};

class FixedWindow {
  private start = 0;
  private count = 0;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly enforced: boolean,
  ) {}

  private roll(now: number): void {
    if (now >= this.start + this.windowMs) {
      this.start = now;
      this.count = 0;
    }
  }

  /** Counts one request; false when it is over the limit. */
  take(now: number): boolean {
    this.roll(now);
    this.count++;
    return !this.enforced || this.count <= this.limit;
  }

  remaining(now: number): number {
    this.roll(now);
    return Math.max(0, this.limit - this.count);
  }

  resetAt(now: number): number {
    this.roll(now);
    return this.start + this.windowMs;
  }
}

// ---------------------------------------------------------------------------
// Vultr S3 (ListBuckets only)

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function s3Encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// Vultr's "2024-01-02T03:04:05+00:00" as S3's "2024-01-02T03:04:05.000Z".
function s3Date(vultrDate: string): string {
  const ms = Date.parse(vultrDate);
  return Number.isNaN(ms) ? vultrDate : new Date(ms).toISOString();
}

/** Path parts after /vultr-s3/<host>/: ListBuckets has none. */
function segments3(url: URL): string[] {
  return url.pathname.split("/").slice(3).filter((p) => p !== "");
}

function listAllMyBuckets(ownerId: string, displayName: string, buckets: { name: unknown; date: unknown }[]): { status: number; xml: string } {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Owner><ID>${xmlEscape(ownerId)}</ID><DisplayName>${xmlEscape(displayName)}</DisplayName></Owner><Buckets>` +
    buckets.map((b) => `<Bucket><Name>${xmlEscape(String(b.name))}</Name><CreationDate>${xmlEscape(String(b.date))}</CreationDate></Bucket>`).join("") +
    "</Buckets></ListAllMyBucketsResult>";
  return { status: 200, xml };
}

function s3Error(status: number, code: string, message: string, accessKey?: string): { status: number; xml: string } {
  // S3 names the access key id in some errors; never the secret.
  const key = accessKey === undefined ? "" : `<AWSAccessKeyId>${xmlEscape(accessKey)}</AWSAccessKeyId>`;
  return {
    status,
    xml: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${key}<RequestId>tx0000000000000000emu</RequestId><HostId>emulator</HostId></Error>`,
  };
}

// ---------------------------------------------------------------------------
// Server

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const defaults = defaultAccounts();
  const accounts: Record<Provider, ProviderAccount> = {
    vultr: opts.accounts?.vultr ?? defaults.vultr,
    digitalocean: opts.accounts?.digitalocean ?? defaults.digitalocean,
    linode: opts.accounts?.linode ?? defaults.linode,
  };
  const latencyMs = Math.max(0, opts.latencyMs ?? 0);
  const windows = {} as Record<Provider, FixedWindow | undefined>;
  for (const p of PROVIDERS) {
    const enforced = opts.rateLimit?.[p];
    const reported = enforced ?? REPORTED_LIMITS[p];
    windows[p] = reported ? new FixedWindow(reported.limit, reported.windowMs, enforced !== undefined) : undefined;
  }

  const faults: (Fault & { left: number })[] = [];
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const pendingWaits = new Set<() => void>();
  let closed = false;

  // Resolves true after ms, or false when cancelled (client gone or emulator closing).
  function wait(ms: number, scope: Set<() => void>): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!closed);
    return new Promise((resolve) => {
      const settle = (elapsed: boolean) => {
        clearTimeout(timer);
        scope.delete(cancel);
        pendingWaits.delete(cancel);
        resolve(elapsed);
      };
      const cancel = () => settle(false);
      const timer = setTimeout(() => settle(true), ms);
      timer.unref();
      scope.add(cancel);
      pendingWaits.add(cancel);
    });
  }

  function rateHeaders(provider: Provider, now: number, exhausted = false, resetMs?: number): Record<string, string> {
    const names = RATE_HEADER_NAMES[provider];
    const w = windows[provider];
    if (!names || !w) return {};
    return {
      [names[0]]: String(w.limit),
      [names[1]]: String(exhausted ? 0 : w.remaining(now)),
      [names[2]]: String(Math.ceil((resetMs ?? w.resetAt(now)) / 1000)),
    };
  }

  function takeFault(provider: Provider, path: string, page: number): Fault | undefined {
    const index = faults.findIndex(
      (f) => f.provider === provider && f.path === path && (f.page === undefined || f.page === page),
    );
    if (index < 0) return undefined;
    const fault = faults[index];
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  }

  function normalAnswer(
    provider: Provider,
    route: Route,
    window: Window | undefined,
    self: SelfLink,
    fault?: Fault,
  ): Answer {
    const account = accounts[provider];
    if (route.kind === "single") return { status: 200, body: route.body(account) };
    const all = route.items(account);
    const w = window as Window;
    let items = all.slice(w.offset, w.offset + w.size);
    if (fault?.kind === "missing-id" && items.length > 0) {
      const first = { ...items[0] };
      delete first[route.idField];
      items = [first, ...items.slice(1)];
    }
    if (fault?.kind === "short-page") items = items.slice(0, -1);
    const reported = fault?.kind === "bad-total" ? (Object.hasOwn(fault, "total") ? fault.total : 10_000_000) : undefined;
    const total = typeof reported === "number" ? reported : all.length;
    const body = DIALECTS[provider].envelope(route, items, total, w, self) as Record<string, unknown>;
    const meta = (body.meta ?? {}) as Record<string, unknown>;
    const links = (meta.links ?? {}) as Record<string, unknown>;
    switch (fault?.kind) {
      case "no-total":
        if (provider === "linode") {
          delete body.page;
          delete body.pages;
          delete body.results;
        } else {
          delete meta.total;
        }
        break;
      case "bad-total":
        if (provider === "linode") body.results = reported;
        else meta.total = reported;
        break;
      case "bad-pages":
        body.pages = Object.hasOwn(fault, "pages") ? fault.pages : Number(body.pages) + 1;
        break;
      case "no-next":
        delete links.next;
        break;
      case "cycle-cursor":
        links.next = vultrCursor("next", w.size);
        break;
    }
    return { status: 200, body };
  }

  function itemAnswer(provider: Provider, route: ItemRoute, parts: string[]): Answer {
    const item = route.find(accounts[provider], parts);
    if (item === undefined) return errorAnswer(provider, 404);
    return { status: 200, body: route.key === null ? item : { [route.key]: item } };
  }

  function echoAnswer(provider: Provider, fault: Fault, token: string): Answer {
    const echoes: Record<TokenEcho, string> = {
      plain: token,
      partial: token.slice(Math.floor(token.length / 2)),
      base64: Buffer.from(token, "utf8").toString("base64"),
      "base64-bearer": Buffer.from(`Bearer ${token}`, "utf8").toString("base64"),
      url: encodeURIComponent(token),
      hex: Buffer.from(token, "utf8").toString("hex"),
    };
    const lead = "The request was refused; it was sent with the credential ";
    const at = Math.max(0, fault.at ?? 290);
    const prefix = (lead + "x".repeat(Math.max(0, at - lead.length))).slice(0, at);
    const message = `${prefix}${echoes[fault.echo ?? "plain"]} (as received).`;
    const status = fault.status ?? 400;
    if (status === 200) return { status, body: null, raw: message };
    return errorAnswer(provider, status, { message });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = Date.now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const segments = url.pathname.split("/");
    if (segments[1] === "vultr-s3" || segments[1] === "do-spaces") {
      await handleS3(req, res, url, segments, arrived);
      return;
    }
    const provider = PROVIDERS.find((p) => p === segments[1]);
    if (!provider) {
      send(res, { status: 404, body: { error: "Unknown provider; paths start with /vultr, /digitalocean or /linode." } });
      return;
    }
    const path = `/${segments.slice(2).join("/")}`.replace(/(.)\/+$/, "$1");
    const query: Query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? "GET";
    const record: RequestRecord = { provider, method, path, query, status: 0, at: arrived };
    requests.push(record);

    const scope = new Set<() => void>();
    res.on("close", () => {
      for (const cancel of [...scope]) cancel();
    });
    if (!(await wait(latencyMs, scope))) return;

    const answer = await decide(provider, path, method, query, req, scope);
    if (answer === undefined || closed || res.destroyed) return;
    record.status = answer.status;
    if (answer.stream) await stream(res, answer, answer.stream);
    else send(res, answer);
  }

  // Vultr S3 ListBuckets at /vultr-s3/<s3_hostname>/ and DigitalOcean Spaces ListBuckets at
  // /do-spaces/<region>.digitaloceanspaces.com/: the request must be signed (SigV4) with keys
  // S3 knows there; answers are S3's XML, errors included.
  async function handleS3(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    segments: string[],
    arrived: number,
  ): Promise<void> {
    const host = decodeURIComponent(segments[2] ?? "");
    const provider: Provider = segments[1] === "do-spaces" ? "digitalocean" : "vultr";
    const path = `/s3/${host}`;
    const record: RequestRecord = { provider, method: req.method ?? "GET", path, query: Object.fromEntries(url.searchParams.entries()), status: 0, at: arrived };
    requests.push(record);
    const scope = new Set<() => void>();
    res.on("close", () => {
      for (const cancel of [...scope]) cancel();
    });
    if (!(await wait(latencyMs, scope))) return;
    const answer = provider === "digitalocean" ? decideSpaces(req, url, host) : decideS3(req, url, host);
    if (closed || res.destroyed) return;
    record.status = answer.status;
    const text = answer.xml;
    res.writeHead(answer.status, {
      ...answer.headers,
      "Content-Type": "application/xml",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  // A fault queued for an S3 host: 429 as S3's SlowDown, 500 and 503 as S3 answers them.
  function s3FaultAnswer(provider: Provider, host: string): { status: number; xml: string; headers?: Record<string, string> } | undefined {
    const fault = takeFault(provider, `/s3/${host}`, 1);
    if (fault?.kind === "429") {
      return { ...s3Error(503, "SlowDown", "Please reduce your request rate."), headers: { "Retry-After": String(fault.retryAfterSeconds ?? 1) } };
    }
    if (fault?.kind === "500") return s3Error(500, "InternalError", "We encountered an internal error. Please try again.");
    if (fault?.kind === "503") return s3Error(503, "ServiceUnavailable", "Please reduce your request rate.");
    return undefined;
  }

  function decideS3(req: http.IncomingMessage, url: URL, host: string): { status: number; xml: string; headers?: Record<string, string> } {
    const account = accounts.vultr;
    const subscriptions = (account.objectStorages ?? []).filter((s) => s.s3_hostname === host);
    if (segments3(url).length > 0 || subscriptions.length === 0) return s3Error(404, "NoSuchBucket", "The specified bucket does not exist.");
    if ((req.method ?? "GET") !== "GET") return s3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    const faulted = s3FaultAnswer("vultr", host);
    if (faulted !== undefined) return faulted;
    const checked = checkSigV4(req, url, (accessKey) => {
      const subscription = subscriptions.find((s) => s.s3_access_key === accessKey);
      if (!subscription || state.vultrS3SecretOverrides[accessKey] === null) return null;
      const secret = Object.hasOwn(state.vultrS3SecretOverrides, accessKey)
        ? String(state.vultrS3SecretOverrides[accessKey])
        : String(subscription.s3_secret_key);
      return { secret, owner: subscription };
    });
    if ("status" in checked) return checked;
    const subscription = checked.owner;
    // One S3 user per subscription: its own buckets only.
    const buckets = account.buckets.filter((b) => b.object_storage_id === subscription.id);
    return listAllMyBuckets(String(subscription.id), String(subscription.label), buckets.map((b) => ({ name: b.name, date: s3Date(String(b.date_created)) })));
  }

  /**
   * SigV4 as S3 checks it: the key's secret (null: an unknown key) and what it belongs to, or
   * the S3 error answer. Any region in the credential scope; `region`, when given, must match.
   */
  function checkSigV4<T>(
    req: http.IncomingMessage,
    url: URL,
    secretOf: (accessKey: string) => { secret: string; owner: T } | null,
    region?: string,
  ): { owner: T } | { status: number; xml: string } {
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? "",
    );
    if (!auth) return s3Error(403, "AccessDenied", "Access Denied");
    const [, accessKey, date, scopeRegion, signedHeaders, signature] = auth;
    const known = secretOf(accessKey);
    if (known === null) {
      return s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", accessKey);
    }
    const names = signedHeaders.split(";");
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
    if (!names.includes("host") || !names.includes("x-amz-date") || !amzDate.startsWith(date)) {
      return s3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", accessKey);
    }
    const rawPath = (req.url ?? "/").split("?")[0];
    const query = [...url.searchParams.entries()]
      .map(([k, v]) => [s3Encode(k), s3Encode(v)])
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    const headerLines = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const canonical = ["GET", rawPath, query, headerLines, signedHeaders, payloadHash].join("\n");
    const scope = `${date}/${scopeRegion}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    const secret = known.secret;
    let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(date).digest();
    for (const part of [scopeRegion, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    const expected = createHmac("sha256", key).update(toSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
      return s3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", accessKey);
    }
    if (region !== undefined && scopeRegion !== region) {
      return s3Error(403, "SignatureDoesNotMatch", `The credential scope names region ${scopeRegion}, not ${region}.`, accessKey);
    }
    return { owner: known.owner };
  }

  // Spaces ListBuckets for one region's endpoint: the account's buckets in that region.
  function decideSpaces(req: http.IncomingMessage, url: URL, host: string): { status: number; xml: string; headers?: Record<string, string> } {
    const account = accounts.digitalocean;
    const region = /^([a-z]{3}[0-9])\.digitaloceanspaces\.com$/.exec(host)?.[1];
    if (region === undefined || segments3(url).length > 0) return s3Error(404, "NoSuchBucket", "The specified bucket does not exist.");
    if ((req.method ?? "GET") !== "GET") return s3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    const faulted = s3FaultAnswer("digitalocean", host);
    if (faulted !== undefined) return faulted;
    const key = account.spacesKey;
    const checked = checkSigV4(
      req,
      url,
      (accessKey) => (key !== undefined && key.accessKeyId === accessKey ? { secret: key.secretAccessKey, owner: key } : null),
      region,
    );
    if ("status" in checked) return checked;
    const buckets = account.buckets.filter((b) => b.region === region);
    return listAllMyBuckets(account.owner.uuid, account.owner.uuid, buckets.map((b) => ({ name: b.name, date: b.creation_date })));
  }

  // Writes only as fast as the client reads, and stops when it hangs up, so a
  // client that gives up early costs the emulator nothing.
  async function stream(res: http.ServerResponse, answer: Answer, body: { bytes: number; contentLength: boolean }) {
    res.writeHead(answer.status, {
      ...answer.headers,
      "Content-Type": "application/json",
      ...(body.contentLength ? { "Content-Length": String(body.bytes) } : {}),
    });
    const opening = Buffer.from('{"pad":"');
    const chunk = Buffer.alloc(64 * 1024, "x");
    let left = body.bytes;
    let first = true;
    while (left > 0 && !res.destroyed && !closed) {
      const piece = first ? Buffer.concat([opening, chunk]) : chunk;
      first = false;
      const part = piece.subarray(0, Math.min(piece.length, left));
      left -= part.length;
      if (!res.write(part)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    if (!res.destroyed) res.end();
  }

  async function decide(
    provider: Provider,
    path: string,
    method: string,
    query: Query,
    req: http.IncomingMessage,
    scope: Set<() => void>,
  ): Promise<Answer | undefined> {
    const dialect = DIALECTS[provider];
    const now = Date.now();
    const withRate = (a: Answer): Answer => ({ ...a, headers: { ...rateHeaders(provider, now), ...a.headers } });

    const route = Object.hasOwn(dialect.routes, path) ? dialect.routes[path] : undefined;
    let item: { route: ItemRoute; parts: string[] } | undefined;
    for (const candidate of route ? [] : dialect.items) {
      const match = candidate.pattern.exec(path);
      if (!match) continue;
      try {
        item = { route: candidate, parts: match.slice(1).map((part) => decodeURIComponent(part)) };
      } catch {
        return withRate(errorAnswer(provider, 404));
      }
      break;
    }
    if (!route && !item) return withRate(errorAnswer(provider, 404));
    if (method !== "GET") return withRate({ ...errorAnswer(provider, 405), headers: { Allow: "GET" } });

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    if (provider === "vultr" && state.vultrBucketEndpoint === "missing" && /^\/v2\/object-storage\/[^/]+\/bucket$/.test(path) && auth?.[1]?.trim() === accounts.vultr.token) {
      return withRate(errorAnswer("vultr", 404));
    }
    const isPublic = route?.kind === "list" && route.public === true;
    if (!isPublic && (!auth || auth[1]?.trim() !== accounts[provider].token)) return withRate(errorAnswer(provider, 401));

    const limiter = windows[provider];
    if (limiter && !limiter.take(now)) {
      const reset = limiter.resetAt(now);
      const retryAfter = Math.max(1, Math.ceil((reset - now) / 1000));
      return {
        ...errorAnswer(provider, 429),
        headers: { ...rateHeaders(provider, now, true, reset), "Retry-After": String(retryAfter) },
      };
    }

    let window: Window | undefined;
    if (route?.kind === "list") {
      const parsed = dialect.paging(query);
      if ("status" in parsed) return withRate(parsed);
      window = parsed;
    }
    const host = req.headers.host ?? `127.0.0.1:${port}`;
    const self: SelfLink = { origin: `http://${host}`, path, query };

    const fault = takeFault(provider, path, window?.page ?? 1);
    const answer = (f?: Fault): Answer =>
      item ? itemAnswer(provider, item.route, item.parts) : normalAnswer(provider, route as Route, window, self, f);
    switch (fault?.kind) {
      case undefined:
        return withRate(answer());
      case "429": {
        const retryAfter = fault.retryAfterSeconds ?? 1;
        return {
          ...errorAnswer(provider, 429),
          headers: { ...rateHeaders(provider, now, true, now + retryAfter * 1000), "Retry-After": String(retryAfter) },
        };
      }
      case "500":
        return withRate(errorAnswer(provider, 500));
      case "503":
        return withRate(errorAnswer(provider, 503));
      case "401":
        return withRate(errorAnswer(provider, 401));
      case "403":
        return withRate(errorAnswer(provider, 403));
      case "timeout":
        if (!(await wait(fault.delayMs ?? 30_000, scope))) return undefined;
        return withRate(answer());
      case "malformed": {
        const text = JSON.stringify(answer().body);
        // Any proper prefix of a serialised object is invalid JSON.
        return withRate({ status: 200, body: null, raw: text.slice(0, Math.max(1, Math.floor(text.length / 2))) });
      }
      case "missing-id":
      case "no-total":
      case "bad-total":
      case "bad-pages":
      case "no-next":
      case "cycle-cursor":
      case "short-page":
        return withRate(answer(fault));
      case "huge-body":
        return withRate({
          status: 200,
          body: null,
          stream: { bytes: Math.max(0, fault.bytes ?? 256 * 1024 * 1024), contentLength: fault.contentLength ?? true },
        });
      case "echo-token":
        return withRate(echoAnswer(provider, fault, auth?.[1]?.trim() ?? ""));
      case "no-scope":
        return withRate(noScopeAnswer(provider));
    }
  }

  function send(res: http.ServerResponse, answer: Answer): void {
    const text = answer.raw ?? JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...answer.headers,
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        send(res, { status: 500, body: { error: `emulator failure: ${String(error)}` } });
      }
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;

  const state: Emulator = {
    baseUrls: { vultr: `${origin}/vultr`, digitalocean: `${origin}/digitalocean`, linode: `${origin}/linode` },
    vultrS3Url: `${origin}/vultr-s3`,
    digitaloceanSpacesUrl: `${origin}/do-spaces`,
    vultrBucketEndpoint: opts.vultrBucketEndpoint ?? "available",
    vultrS3SecretOverrides: {},
    port,
    accounts,
    setAccount(provider, account) {
      accounts[provider] = account;
    },
    addFault(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    requests,
    countRequests(filter = {}) {
      let n = 0;
      for (const r of requests) {
        if (filter.provider !== undefined && r.provider !== filter.provider) continue;
        if (filter.path !== undefined && r.path !== filter.path) continue;
        if (filter.status !== undefined && r.status !== filter.status) continue;
        n++;
      }
      return n;
    },
    resetRequests() {
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const cancel of [...pendingWaits]) cancel();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
  return state;
}
