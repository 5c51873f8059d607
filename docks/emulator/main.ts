// CLI entry for running the provider emulator on its own (`npm run emulator`): serves one account per
// provider on --port, prints the base URLs and tokens, and stops on SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { defaultAccounts, generateAccount, PROVIDERS, type Provider, type ProviderAccount } from "./accounts";
import { startEmulator } from "./server";

const USAGE = `Usage: tsx docks/emulator/main.ts [options]

  --port N        port on 127.0.0.1 (default 4010, 0 = random)
  --latency MS    delay added before every answer (default 0)
  --seed N        generate accounts from this seed instead of the small default ones
  --servers N     servers per provider when generating (default 4)
  --volumes N     volumes per provider when generating (default 8)
  --buckets N     Linode buckets when generating (default 8)
  --help          show this text`;

function count(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      latency: { type: "string" },
      seed: { type: "string" },
      servers: { type: "string" },
      volumes: { type: "string" },
      buckets: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = count(values.port, "port", 4010);
  if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
  const latencyMs = count(values.latency, "latency", 0);

  let accounts: Record<Provider, ProviderAccount> = defaultAccounts();
  if (values.seed !== undefined || values.servers !== undefined || values.volumes !== undefined || values.buckets !== undefined) {
    const seed = count(values.seed, "seed", 1);
    const shape = {
      seed,
      servers: count(values.servers, "servers", 4),
      volumes: count(values.volumes, "volumes", 8),
      buckets: count(values.buckets, "buckets", 8),
    };
    accounts = {
      vultr: generateAccount("vultr", shape),
      digitalocean: generateAccount("digitalocean", shape),
      linode: generateAccount("linode", shape),
    };
  }

  const emulator = await startEmulator({ port, latencyMs, accounts });
  console.log(`Provider emulator listening on http://127.0.0.1:${emulator.port}`);
  for (const provider of PROVIDERS) {
    const a = emulator.accounts[provider];
    const inventory =
      provider === "linode"
        ? `${a.servers.length} linodes, ${a.volumes.length} volumes, ${a.buckets.length} buckets`
        : `${a.servers.length} servers, ${a.volumes.length} volumes`;
    console.log(`  ${provider.padEnd(13)} ${emulator.baseUrls[provider]}`);
    console.log(`  ${"".padEnd(13)} token ${a.token}  (${inventory})`);
  }
  console.log("Press Ctrl+C to stop.");

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the emulator`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
