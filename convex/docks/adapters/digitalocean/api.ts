// DigitalOcean API v2 endpoints this module reads; paging (page/per_page 200),
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

  /** The droplets a page at a time; returns normally only when the listing was complete. */
  dropletPages(): AsyncGenerator<DigitalOceanDroplet[], void, undefined> {
    return this.client.pages<DigitalOceanDroplet>("/v2/droplets", "droplets");
  }

  /** The volumes a page at a time; returns normally only when the listing was complete. */
  volumePages(): AsyncGenerator<DigitalOceanVolume[], void, undefined> {
    return this.client.pages<DigitalOceanVolume>("/v2/volumes", "volumes");
  }

  /** One droplet; null when it no longer exists. */
  async getDroplet(id: number | string): Promise<DigitalOceanDroplet | null> {
    return await this.client.getItem<DigitalOceanDroplet>(`/v2/droplets/${encodeURIComponent(String(id))}`, "droplet");
  }

  /** One volume; null when it no longer exists. */
  async getVolume(id: string): Promise<DigitalOceanVolume | null> {
    return await this.client.getItem<DigitalOceanVolume>(`/v2/volumes/${encodeURIComponent(id)}`, "volume");
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
