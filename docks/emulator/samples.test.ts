// The hand-written sample responses under docks/<provider>/ must keep the real envelopes and the
// same item fields the emulator serves, so that code tested against one also works with the other.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateAccount, LINODE_VOLUME_TYPES } from "./accounts";

type Item = Record<string, unknown>;

function sample(relative: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../${relative}`, import.meta.url)), "utf8")) as Record<string, unknown>;
}

function keys(item: Item | undefined): string[] {
  return Object.keys(item ?? {}).sort();
}

const vultr = generateAccount("vultr", { seed: 1, servers: 2, volumes: 4 });
const digitalocean = generateAccount("digitalocean", { seed: 1, servers: 2, volumes: 4 });
const linode = generateAccount("linode", { seed: 1, servers: 2, volumes: 4, buckets: 4 });

describe("sample responses", () => {
  it("shows Vultr blocks as one full page with an attached and a detached block and the served fields", () => {
    const page = sample("vultr/getBlocks.json");
    const blocks = page.blocks as Item[];
    expect(page.meta).toEqual({ total: blocks.length, links: { next: "", prev: "" } });
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.some((b) => b.attached_to_instance !== "")).toBe(true);
    expect(blocks.some((b) => b.attached_to_instance === "")).toBe(true);
    for (const b of blocks) expect(keys(b)).toEqual(keys(vultr.volumes[0]));
  });

  it("shows Vultr instances with the served fields, and the attached blocks point at them", () => {
    const page = sample("vultr/getInstances.json");
    const instances = page.instances as Item[];
    expect(page.meta).toEqual({ total: instances.length, links: { next: "", prev: "" } });
    for (const i of instances) expect(keys(i)).toEqual(keys(vultr.servers[0]));
    const ids = new Set(instances.map((i) => i.id));
    for (const b of sample("vultr/getBlocks.json").blocks as Item[]) {
      if (b.attached_to_instance !== "") expect(ids.has(b.attached_to_instance)).toBe(true);
    }
  });

  it("shows DigitalOcean volumes and droplets on one page with links {} and attachments linked both ways", () => {
    const volumesPage = sample("digitalocean/getVolumes.json");
    const dropletsPage = sample("digitalocean/getDroplets.json");
    const volumes = volumesPage.volumes as Item[];
    const droplets = dropletsPage.droplets as Item[];
    expect(volumesPage.links).toEqual({});
    expect(volumesPage.meta).toEqual({ total: volumes.length });
    expect(dropletsPage.links).toEqual({});
    expect(dropletsPage.meta).toEqual({ total: droplets.length });
    for (const v of volumes) expect(keys(v)).toEqual(keys(digitalocean.volumes[0]));
    for (const d of droplets) expect(keys(d)).toEqual(keys(digitalocean.servers[0]));
    expect(volumes.some((v) => (v.droplet_ids as number[]).length === 0)).toBe(true);
    for (const v of volumes) {
      for (const id of v.droplet_ids as number[]) {
        expect(droplets.find((d) => d.id === id)?.volume_ids).toContain(v.id);
      }
    }
  });

  it("shows Linode buckets on one page, two of them with the same label in two regions", () => {
    const page = sample("linode/getBuckets.json");
    const buckets = page.data as Item[];
    expect(page).toMatchObject({ page: 1, pages: 1, results: buckets.length });
    for (const b of buckets) {
      expect(keys(b)).toEqual(keys(linode.buckets[0]));
      expect(b.hostname).toBe(`${String(b.label)}.${String(b.region)}-1.linodeobjects.com`);
    }
    const first = buckets[0];
    const twins = buckets.filter((b) => b.label === first?.label);
    expect(new Set(twins.map((b) => b.region)).size).toBe(2);
  });

  it("shows Linode instances on one page with the served fields", () => {
    const page = sample("linode/getLinodes.json");
    const linodes = page.data as Item[];
    expect(page).toMatchObject({ page: 1, pages: 1, results: linodes.length });
    for (const l of linodes) expect(keys(l)).toEqual(keys(linode.servers[0]));
  });

  it("shows Linode volumes on one page with the served fields, one attached to a Linode of the instances sample", () => {
    const page = sample("linode/getVolumes.json");
    const volumes = page.data as Item[];
    expect(page).toMatchObject({ page: 1, pages: 1, results: volumes.length });
    for (const v of volumes) expect(keys(v)).toEqual(keys(linode.volumes[0]));
    const linodes = new Map((sample("linode/getLinodes.json").data as Item[]).map((l) => [l.id, l]));
    const attached = volumes.filter((v) => v.linode_id !== null);
    expect(attached.length).toBeGreaterThanOrEqual(1);
    expect(volumes.some((v) => v.linode_id === null && v.linode_label === null)).toBe(true);
    for (const v of attached) {
      expect(linodes.get(v.linode_id)?.label).toBe(v.linode_label);
      expect(linodes.get(v.linode_id)?.region).toBe(v.region);
    }
  });

  it("shows Linode's volume prices as the emulator serves them", () => {
    const page = sample("linode/getVolumeTypes.json");
    expect(page).toEqual({ data: LINODE_VOLUME_TYPES, page: 1, pages: 1, results: LINODE_VOLUME_TYPES.length });
  });
});
