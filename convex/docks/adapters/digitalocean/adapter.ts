// Where a DigitalOcean droplet becomes a `servers` row and a DigitalOcean
// volume becomes a `blockVolumes` row; Spaces buckets: ./spaces.ts.
import { defineAdapter } from "../../defineAdapter";
import {
  ItemError,
  type Item,
  optionalString,
  parseWith,
  requiredId,
  requiredNumber,
  requiredNumericId,
  rowText,
} from "../../parse";
import type { Enrich } from "../../sync";
import { DigitalOceanAPI } from "./api";
import { lookupSpacesBucket, parseSpacesBucket, spacesBucketPages } from "./spaces";

function regionSlug(item: Item): string {
  const region = item.region;
  if (typeof region === "object" && region !== null && !Array.isArray(region)) {
    const r = region as Item;
    const slug = optionalString(r, "slug") ?? optionalString(r, "name");
    if (slug !== undefined) return slug;
  }
  throw new ItemError("region has no slug or name");
}

function publicIpv4(item: Item): string | undefined {
  const networks = item.networks as { v4?: { ip_address?: unknown; type?: unknown }[] } | undefined;
  const v4 = Array.isArray(networks?.v4) ? networks.v4 : [];
  const ip = v4.find((n) => n?.type === "public")?.ip_address;
  return typeof ip === "string" ? rowText(ip) : undefined;
}

export const parseDigitalOceanDroplet = parseWith((item, store) => {
  const id = requiredNumericId(item, "id");
  return {
    providerResourceId: id,
    name: optionalString(item, "name") ?? id,
    status: optionalString(item, "status") ?? "unknown",
    region: regionSlug(item),
    publicIpv4: publicIpv4(item),
    fullApiData: { droplet: store(item) },
  };
});

export const parseDigitalOceanVolume = parseWith((item, store) => {
  const id = requiredId(item, "id");
  const dropletIds = item.droplet_ids ?? [];
  if (!Array.isArray(dropletIds) || !dropletIds.every((d) => Number.isSafeInteger(d))) {
    throw new ItemError("droplet_ids is not a list of integers");
  }
  return {
    providerResourceId: id,
    name: optionalString(item, "name") ?? id,
    sizeGb: requiredNumber(item, "size_gigabytes"),
    region: regionSlug(item),
    // DigitalOcean volumes carry no status; listed means it exists.
    status: "active",
    attachedToInstance: dropletIds.length > 0 ? String(dropletIds[0]) : undefined,
    // Filled from the dock's servers in the mutation (see attachDropletNames).
    attachedToInstanceLabel: undefined as string | undefined,
    mountId: undefined,
    blockType: undefined,
    filesystemType: optionalString(item, "filesystem_type"),
    fullApiData: { volume: store(item) },
  };
});

/**
 * DigitalOcean names only the droplet id on a volume; the dashboard shows the
 * droplet's name when that droplet is among the dock's synced servers.
 */
const attachDropletNames: Enrich<"blockVolumes"> = async (ctx, dock, rows, serverNames) => {
  const names = new Map<string, string | undefined>();
  for (const row of rows) {
    const dropletId = row.attachedToInstance;
    if (dropletId === undefined) continue;
    if (!names.has(dropletId)) {
      // Names the action listed this sync need no read; a droplet row can be
      // large (it lists its volumes), and a chunk may name hundreds.
      let name = serverNames?.get(dropletId);
      if (name === undefined && serverNames === undefined) {
        const server = await ctx.db
          .query("servers")
          .withIndex("by_dock_resource", (q) =>
            q.eq("dockId", dock._id).eq("providerResourceId", dropletId),
          )
          .unique();
        name = server?.name;
      }
      names.set(dropletId, name);
    }
    row.attachedToInstanceLabel = names.get(dropletId);
  }
};

export const digitalOceanAdapter = defineAdapter({
  provider: "digitalocean",
  verifyCredentials: (client) => new DigitalOceanAPI(client).getAccountId(),
  servers: {
    list: (client) => new DigitalOceanAPI(client).dropletPages(),
    lookup: (client, id) => new DigitalOceanAPI(client).getDroplet(id),
    parse: parseDigitalOceanDroplet,
  },
  blockVolumes: {
    list: (client) => new DigitalOceanAPI(client).volumePages(),
    lookup: (client, id) => new DigitalOceanAPI(client).getVolume(id),
    parse: parseDigitalOceanVolume,
    enrich: attachDropletNames,
  },
  // Only for a dock with a Spaces key pair: DigitalOcean's API lists no buckets.
  buckets: {
    list: spacesBucketPages,
    lookup: lookupSpacesBucket,
    parse: parseSpacesBucket,
    needsS3Key: true,
  },
});
