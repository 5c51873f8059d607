// The main job (`npm start`): runs this module's Convex functions on
// convex-test's in-memory backend against the provider emulator (or, with
// VULTR_API_KEY / DIGITALOCEAN_TOKEN / LINODE_TOKEN set, and optionally
// SPACES_ACCESS_KEY_ID / SPACES_SECRET_ACCESS_KEY, real accounts, GET only),
// connects one dock per provider, syncs, and prints what the
// dashboard would show; with the emulator it then changes the accounts,
// syncs again and prints the difference. Exits 1 when a sync failed.
import { randomBytes } from "node:crypto";
import { convexTest } from "convex-test";
import { api } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { BASE_URL_ENV, PROVIDER_NAMES as NAMES } from "../convex/docks/http";
import schema from "../convex/schema";
import type { Provider } from "../convex/validators";
import { convexModules } from "./convexModules";
import { applyChanges, defaultAccounts } from "./emulator/accounts";
import { startEmulator, type Emulator } from "./emulator/server";
import { SPACES_URL_ENV, spacesDockArgs } from "./spaces";

const REAL_TOKEN_ENV: Record<Provider, string> = {
  vultr: "VULTR_API_KEY",
  digitalocean: "DIGITALOCEAN_TOKEN",
  linode: "LINODE_TOKEN",
};
const PROVIDERS: Provider[] = ["vultr", "digitalocean", "linode"];

type Volume = Doc<"blockVolumes">;
type Bucket = Doc<"buckets">;
type DockSummary = Awaited<ReturnType<typeof listDocks>>[number];

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function bytes(n: number | undefined): string {
  if (n === undefined) return "unknown";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function attachment(v: Volume): string {
  if (v.attachedToInstance === undefined) return "(detached)";
  return v.attachedToInstanceLabel ?? v.attachedToInstance;
}

const t = convexTest({ schema, modules: convexModules() });
const user = t.withIdentity({
  tokenIdentifier: "https://auth.example|demo-user",
  name: "Demo Admin",
  email: "admin@example.com",
});

function listDocks() {
  return user.query(api.docks.queries.listDocks, {});
}

async function waitForSyncs(dockIds: Id<"docks">[], since: number): Promise<DockSummary[]> {
  const shown = new Map<string, string>();
  for (;;) {
    await t.finishInProgressScheduledFunctions();
    const docks = (await listDocks()).filter((d) => dockIds.includes(d._id));
    for (const d of docks) {
      const done = d.syncState === "idle" && (d.lastSyncAt ?? 0) >= since;
      // The live progress a dashboard shows: the phase and the type in it.
      const p = d.syncProgress;
      const phase = p === undefined ? "" : `: ${p.phase}${p.type === undefined ? "" : ` ${p.type}`}`;
      const state = done ? `done: ${d.lastSyncStatus}` : `syncing${phase}`;
      if (shown.get(d._id) !== state) {
        shown.set(d._id, state);
        console.log(`[${elapsed()}] ${d.name}: ${state}`);
      }
    }
    if (docks.every((d) => d.syncState === "idle" && (d.lastSyncAt ?? 0) >= since)) return docks;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function printDocks(docks: DockSummary[]) {
  console.log(`\nDocks (${docks.length})`);
  const count = (d: DockSummary, type: "servers" | "blockVolumes" | "buckets") => {
    const s = d.lastSyncStats?.[type];
    return s === undefined ? "-" : s.error !== undefined && !s.complete && s.fetched === 0 ? "failed" : String(s.fetched - s.skipped);
  };
  console.log(
    table(
      ["Dock", "Provider", "Status", "Servers", "Volumes", "Buckets", "Error"],
      docks.map((d) => [
        d.name,
        NAMES[d.provider],
        d.lastSyncStatus ?? "never synced",
        count(d, "servers"),
        count(d, "blockVolumes"),
        count(d, "buckets"),
        (d.lastSyncError ?? "").replace(/\n/g, " | "),
      ]),
    ),
  );
}

async function printInventory() {
  const volumes = await user.query(api.resources.queries.listBlockVolumes, {});
  const buckets = await user.query(api.resources.queries.listBuckets, {});
  console.log(`\nBlock volumes (${volumes.length})`);
  console.log(
    table(
      ["Name", "Provider", "Region", "Size", "Attached to"],
      [...volumes]
        .sort((a, b) => a.provider.localeCompare(b.provider) || a.name.localeCompare(b.name))
        .map((v) => [v.name, NAMES[v.provider], v.region, `${v.sizeGb} GB`, attachment(v)]),
    ),
  );
  console.log(`\nBuckets (${buckets.length})`);
  console.log(
    table(
      ["Name", "Provider", "Region", "Size", "Objects", "Hostname"],
      [...buckets]
        .sort((a, b) => a.name.localeCompare(b.name) || a.region.localeCompare(b.region))
        .map((b) => [b.name, NAMES[b.provider], b.region, bytes(b.sizeBytes), b.objectCount === undefined ? "unknown" : String(b.objectCount), b.hostname ?? ""]),
    ),
  );
  return { volumes, buckets };
}

const money = (n: number) => `$${n.toFixed(2)}`;

/** What the storage summary screen shows: totals per provider and region, from getStorageSummary. */
async function printSummary(orgId: Id<"organizations">) {
  const summary = await user.query(api.resources.summary.getStorageSummary, { orgId });
  const cost = (t: { knownMonthlyCost: number; unpricedCount: number; count: number }) =>
    t.unpricedCount === t.count
      ? "unknown"
      : `${money(t.knownMonthlyCost)}${t.unpricedCount > 0 ? ` + ${t.unpricedCount} unpriced` : ""}`;
  const v = summary.blockVolumes;
  console.log(`\nStorage summary: block volumes (${v.total.count}, ${v.total.sizeGb} GB, ${cost(v.total)} a month)`);
  console.log(
    table(
      ["Provider", "Region", "Volumes", "Size", "Unattached", "Unattached size", "Monthly cost"],
      v.byRegion.map((r) => [
        NAMES[r.provider],
        r.region,
        String(r.totals.count),
        `${r.totals.sizeGb} GB`,
        String(r.totals.unattachedCount),
        `${r.totals.unattachedGb} GB`,
        cost(r.totals),
      ]),
    ),
  );
  console.log(
    `Unattached: ${v.total.unattachedCount} volumes, ${v.total.unattachedGb} GB` +
      v.byProvider.map((p) => `; ${NAMES[p.provider]} ${p.totals.unattachedCount} (${p.totals.unattachedGb} GB)`).join(""),
  );
  const b = summary.buckets;
  console.log(`\nStorage summary: buckets (${b.total.count})`);
  console.log(
    table(
      ["Provider", "Region", "Buckets", "Size", "Objects", "Size unknown"],
      b.byRegion.map((r) => [
        NAMES[r.provider],
        r.region,
        String(r.totals.count),
        r.totals.unsizedCount === r.totals.count ? "unknown" : bytes(r.totals.sizeBytes),
        r.totals.unsizedCount === r.totals.count ? "unknown" : String(r.totals.objectCount),
        String(r.totals.unsizedCount),
      ]),
    ),
  );

  // The first thing an operator looks for to cut cost: unattached volumes, largest first.
  const unattached = await user.query(api.resources.queries.paginateBlockVolumes, {
    orgId,
    unattachedOnly: true,
    sort: "size",
    paginationOpts: { numItems: 5, cursor: null },
  });
  console.log(`\nLargest unattached volumes (first page of 5)`);
  console.log(
    table(
      ["Name", "Provider", "Region", "Size", "Monthly cost"],
      unattached.page.map((r) => [
        r.name,
        NAMES[r.provider],
        r.region,
        `${r.sizeGb} GB`,
        r.monthlyCost === undefined ? "unknown" : money(r.monthlyCost),
      ]),
    ),
  );
}

/** A name search as the dashboard's search box runs it, for a word of a stored name. */
async function printSearch(volumes: Volume[], buckets: Bucket[]) {
  // The first word of a name, as a user types the start of what they look for.
  const word = (name: string | undefined) => name?.split(/[^A-Za-z0-9]+/)[0];
  const volumeWord = word(volumes[0]?.name);
  const bucketWord = word(buckets[0]?.name);
  if (volumeWord !== undefined) {
    const found = await user.query(api.resources.search.searchBlockVolumes, { text: volumeWord, limit: 5 });
    console.log(`\nSearch volumes for "${volumeWord}": ${found.results.length}${found.hasMore ? "+" : ""} found`);
    for (const r of found.results) console.log(`  ${r.name} (${NAMES[r.provider]}, ${r.region}, ${r.sizeGb} GB)`);
  }
  if (bucketWord !== undefined) {
    const found = await user.query(api.resources.search.searchBuckets, { text: bucketWord, limit: 5 });
    console.log(`\nSearch buckets for "${bucketWord}": ${found.results.length}${found.hasMore ? "+" : ""} found`);
    for (const r of found.results) console.log(`  ${r.name} (${NAMES[r.provider]}, ${r.region})`);
  }
}

function describeChange(before: Volume | Bucket, after: Volume | Bucket): string {
  const changes: string[] = [];
  if ("sizeGb" in before && "sizeGb" in after && before.sizeGb !== after.sizeGb) {
    changes.push(`size ${before.sizeGb} GB -> ${after.sizeGb} GB`);
  }
  if ("sizeGb" in before && "sizeGb" in after && before.attachedToInstance !== after.attachedToInstance) {
    changes.push(`${attachment(before)} -> ${attachment(after)}`);
  }
  if ("sizeBytes" in before && "sizeBytes" in after && before.sizeBytes !== after.sizeBytes) {
    changes.push(`size ${bytes(before.sizeBytes)} -> ${bytes(after.sizeBytes)}`);
  }
  if ("objectCount" in before && "objectCount" in after && before.objectCount !== after.objectCount) {
    changes.push(`objects ${before.objectCount} -> ${after.objectCount}`);
  }
  return changes.length > 0 ? changes.join(", ") : "provider details changed";
}

function printDifference(
  label: string,
  before: (Volume | Bucket)[],
  after: (Volume | Bucket)[],
) {
  const old = new Map(before.map((r) => [r._id as string, r]));
  const now = new Map(after.map((r) => [r._id as string, r]));
  const added = after.filter((r) => !old.has(r._id));
  const removed = before.filter((r) => !now.has(r._id));
  const updated = after.filter((r) => old.has(r._id) && old.get(r._id)!.updatedAt !== r.updatedAt);
  const unchanged = after.length - added.length - updated.length;
  console.log(
    `\n${label}: ${added.length} added, ${updated.length} updated, ${removed.length} removed, ${unchanged} unchanged`,
  );
  for (const r of added) console.log(`  + ${r.name} (${NAMES[r.provider]}, ${r.region})`);
  for (const r of updated) console.log(`  ~ ${r.name} (${NAMES[r.provider]}): ${describeChange(old.get(r._id)!, r)}`);
  for (const r of removed) console.log(`  - ${r.name} (${NAMES[r.provider]}, ${r.region})`);
}

async function main(): Promise<number> {
  process.env.ENCRYPTION_MASTER_KEY ??= randomBytes(32).toString("hex");
  // The demo presses "sync dock" again right after the first sync, on purpose.
  process.env.SYNC_BUTTON_COOLDOWN_MS ??= "1";
  const realTokens = PROVIDERS.filter((p) => (process.env[REAL_TOKEN_ENV[p]] ?? "") !== "");
  let emulator: Emulator | undefined;
  let tokens: Partial<Record<Provider, string>>;
  if (realTokens.length > 0) {
    tokens = Object.fromEntries(realTokens.map((p) => [p, process.env[REAL_TOKEN_ENV[p]]!]));
    console.log(`Syncing real accounts (GET requests only): ${realTokens.map((p) => NAMES[p]).join(", ")}`);
  } else {
    emulator = await startEmulator({ accounts: defaultAccounts(), latencyMs: 25 });
    for (const p of PROVIDERS) process.env[BASE_URL_ENV[p]] = emulator.baseUrls[p];
    // Where the emulator answers S3 for Vultr's Object Storage hosts.
    process.env.VULTR_S3_URL = emulator.vultrS3Url;
    // And for DigitalOcean Spaces, which the DigitalOcean dock lists with its Spaces key.
    process.env[SPACES_URL_ENV] = emulator.digitaloceanSpacesUrl;
    tokens = Object.fromEntries(PROVIDERS.map((p) => [p, emulator!.accounts[p].token]));
    console.log(`Provider emulator on http://127.0.0.1:${emulator.port} (Vultr, DigitalOcean, Linode)`);
  }

  try {
    await user.mutation(api.users.storeUser, {});
    const orgId = await user.mutation(api.organizations.createOrganization, { name: "Demo Org" });
    const since = Date.now();
    const dockIds: Id<"docks">[] = [];
    for (const provider of Object.keys(tokens) as Provider[]) {
      // Connecting a dock checks the key with the provider, stores it
      // encrypted and starts the first sync.
      const dockId = await user.action(api.docks.actions.createDock, {
        orgId,
        name: `${NAMES[provider]} account`,
        provider,
        apiKey: tokens[provider]!,
        // A DigitalOcean dock's optional Spaces key pair (SPACES_ACCESS_KEY_ID /
        // SPACES_SECRET_ACCESS_KEY with a real account).
        ...spacesDockArgs(provider, emulator),
      });
      console.log(`[${elapsed()}] connected ${NAMES[provider]}; first sync started`);
      dockIds.push(dockId);
    }
    let docks = await waitForSyncs(dockIds, since);
    printDocks(docks);
    const first = await printInventory();
    await printSummary(orgId);
    await printSearch(first.volumes, first.buckets);
    let failed = docks.some((d) => d.lastSyncStatus !== "success");

    if (emulator !== undefined) {
      console.log("\nChanging the emulated accounts: volumes and buckets added, removed, detached and resized.");
      for (const p of PROVIDERS) {
        emulator.setAccount(p, applyChanges(p, emulator.accounts[p], { seed: 2, add: 2, remove: 1, detach: 1, resize: 1 }));
      }
      const again = Date.now();
      for (const dockId of dockIds) {
        await user.mutation(api.docks.mutations.syncDock, { dockId });
      }
      console.log(`[${elapsed()}] pressed "sync dock" on ${dockIds.length} docks`);
      docks = await waitForSyncs(dockIds, again);
      printDocks(docks);
      const second = await printInventory();
      printDifference("Block volumes", first.volumes, second.volumes);
      printDifference("Buckets", first.buckets, second.buckets);
      await printSummary(orgId);
      failed ||= docks.some((d) => d.lastSyncStatus !== "success");
      console.log(`\nProvider requests served by the emulator: ${emulator.requests.length}`);
    }
    console.log(failed ? "\nA sync did not fully succeed (see the Error column)." : "\nAll syncs succeeded.");
    return failed ? 1 : 0;
  } finally {
    await emulator?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const data = (error as { data?: { code?: string; message?: string } }).data;
    console.error(data?.message !== undefined ? `${data.code}: ${data.message}` : error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
