// Maps a dock's provider to its adapter; the one place a new provider is added.
import type { Provider } from "../validators";
import type { DockAdapter } from "./_types";
import { digitalOceanAdapter } from "./adapters/digitalocean/adapter";
import { linodeAdapter } from "./adapters/linode/adapter";
import { vultrAdapter } from "./adapters/vultr/adapter";

const ADAPTERS: Record<Provider, DockAdapter> = {
  vultr: vultrAdapter,
  digitalocean: digitalOceanAdapter,
  linode: linodeAdapter,
};

export function getAdapter(provider: Provider): DockAdapter {
  return ADAPTERS[provider];
}
