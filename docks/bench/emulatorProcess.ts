// The provider emulator in a process of its own, for the paging comparison:
// there the provider's work (slicing and serializing pages) runs on another
// core, as a real provider's does, instead of sharing the client's event loop.
// The parent drives it over the IPC channel (request counts, reset, close).
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generateAccount, type GenerateOptions, type Provider } from "../emulator/accounts";
import { startEmulator } from "../emulator/server";

type Options = { provider: Provider; account: GenerateOptions; latencyMs: number };
type Request = { id: number; op: "count" | "reset" | "close"; path?: string };
type Reply = { id: number; value: number };
type Ready = { ready: true; baseUrls: Record<Provider, string> };

export type RemoteEmulator = {
  baseUrls: Record<Provider, string>;
  countRequests(path?: string): Promise<number>;
  resetRequests(): Promise<void>;
  close(): Promise<void>;
};

const SCRIPT = fileURLToPath(import.meta.url);

/** Starts the emulator with one generated account in a child process (same seed, same token). */
export function startRemoteEmulator(options: Options): Promise<RemoteEmulator> {
  // fork() reuses process.execArgv, which carries tsx's loader.
  const child: ChildProcess = fork(SCRIPT, ["--emulator-child", JSON.stringify(options)], { stdio: "inherit" });
  let nextId = 0;
  const pending = new Map<number, (value: number) => void>();
  const call = (request: Omit<Request, "id">) =>
    new Promise<number>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ ...request, id });
    });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the emulator process exited (${code}) before it was ready`)));
    child.on("message", (message: Ready | Reply) => {
      if ("ready" in message) {
        resolve({
          baseUrls: message.baseUrls,
          countRequests: (path) => call({ op: "count", path }),
          resetRequests: async () => {
            await call({ op: "reset" });
          },
          close: async () => {
            // Exiting now is expected: drop the "exited before ready" handler first.
            child.removeAllListeners("exit");
            const exited = new Promise((done) => child.once("exit", done));
            await call({ op: "close" });
            await exited;
          },
        });
        return;
      }
      pending.get(message.id)?.(message.value);
      pending.delete(message.id);
    });
  });
}

async function serve(options: Options): Promise<void> {
  const emulator = await startEmulator({
    latencyMs: options.latencyMs,
    accounts: { [options.provider]: generateAccount(options.provider, options.account) },
  });
  process.on("message", (request: Request) => {
    const reply = (value: number) => process.send!({ id: request.id, value } satisfies Reply);
    if (request.op === "count") reply(emulator.countRequests(request.path === undefined ? {} : { path: request.path }));
    if (request.op === "reset") {
      emulator.resetRequests();
      reply(0);
    }
    if (request.op === "close") {
      void emulator.close().then(() => {
        reply(0);
        process.disconnect();
      });
    }
  });
  process.send!({ ready: true, baseUrls: emulator.baseUrls } satisfies Ready);
}

const at = process.argv.indexOf("--emulator-child");
if (at >= 0) {
  serve(JSON.parse(process.argv[at + 1]) as Options).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
