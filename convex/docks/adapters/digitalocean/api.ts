// DigitalOcean API v2 endpoints this module lists; paging (page/per_page 200),
// retries and errors are the shared client's.
import { ProviderError, type ProviderClient } from "../../http";
import type { DigitalOceanDroplet, DigitalOceanVolume } from "./types";

export class DigitalOceanAPI {
  constructor(private readonly client: ProviderClient) {}

  async listDroplets(): Promise<DigitalOceanDroplet[]> {
    return await this.client.listAll<DigitalOceanDroplet>("/v2/droplets", "droplets");
  }

  async listVolumes(): Promise<DigitalOceanVolume[]> {
    return await this.client.listAll<DigitalOceanVolume>("/v2/volumes", "volumes");
  }

  /**
   * The cheapest authenticated call: proves the token works and names its
   * account. A token acts for a team, whose uuid names the inventory it
   * lists; a user outside any team answers without `team`, and then the
   * user's uuid names it.
   */
  async getAccountId(): Promise<string> {
    const body = await this.client.getJson("/v2/account");
    const account = body.account as { uuid?: unknown; team?: { uuid?: unknown } | null } | null | undefined;
    const team = account?.team?.uuid;
    if (typeof team === "string" && team !== "") return `team:${team}`;
    if (typeof account?.uuid === "string" && account.uuid !== "") return `user:${account.uuid}`;
    throw new ProviderError("digitalocean", "/v2/account", 200, "the answer names no account (no uuid)", false);
  }
}
