// Where a Vultr instance becomes a `servers` row and a Vultr block becomes a
// `blockVolumes` row.
import { defineAdapter } from "../../defineAdapter";
import {
  optionalPrice,
  optionalString,
  parseWith,
  requiredId,
  requiredNumber,
  requiredString,
  withoutSecrets,
} from "../../parse";
import { VultrAPI } from "./api";

// default_password is the instance's root password; kvm is a console URL
// with an access token in it.
export const VULTR_INSTANCE_SECRETS = ["default_password", "kvm"] as const;

export const parseVultrInstance = parseWith((item, store) => {
  const id = requiredId(item, "id");
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? optionalString(item, "hostname") ?? id,
    status: optionalString(item, "status") ?? "unknown",
    region: optionalString(item, "region"),
    publicIpv4: optionalString(item, "main_ip"),
    fullApiData: { instance: store(withoutSecrets(item, VULTR_INSTANCE_SECRETS)) },
  };
});

export const parseVultrBlock = parseWith((item, store) => {
  const id = requiredId(item, "id");
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? id,
    sizeGb: requiredNumber(item, "size_gb"),
    region: requiredString(item, "region"),
    status: requiredString(item, "status"),
    // Vultr answers "" for a detached block; that clears the attachment.
    attachedToInstance: optionalString(item, "attached_to_instance"),
    attachedToInstanceLabel: optionalString(item, "attached_to_instance_label"),
    mountId: optionalString(item, "mount_id"),
    blockType: optionalString(item, "block_type"),
    filesystemType: undefined,
    // Vultr's `cost` is the block's monthly price in US dollars.
    monthlyCost: optionalPrice(item, "cost"),
    fullApiData: { block: store(item) },
  };
});

export const vultrAdapter = defineAdapter({
  provider: "vultr",
  verifyCredentials: (client) => new VultrAPI(client).getAccountId(),
  servers: {
    // Secrets are dropped as soon as a page arrives, so they never travel on
    // as mutation arguments.
    list: async function* (client) {
      for await (const page of new VultrAPI(client).instancePages()) {
        yield page.map((i) => (typeof i === "object" && i !== null ? withoutSecrets(i, VULTR_INSTANCE_SECRETS) : i));
      }
    },
    // Only whether it exists is used; the secrets go at once all the same.
    lookup: async (client, id) => {
      const item = await new VultrAPI(client).getInstance(id);
      return item === null ? null : withoutSecrets(item, VULTR_INSTANCE_SECRETS);
    },
    parse: parseVultrInstance,
  },
  blockVolumes: {
    list: (client) => new VultrAPI(client).blockPages(),
    lookup: (client, id) => new VultrAPI(client).getBlock(id),
    parse: parseVultrBlock,
  },
});
