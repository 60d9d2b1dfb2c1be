/**
 * Real processes for the browser tests: `hydra-jobs up` on a free port with a temporary data dir,
 * a private redis-server, and `hydra-jobs worker` with a domain token. Each logs to test-results/.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const UI = path.resolve(HERE, "..");
const REPO = path.resolve(UI, "..");
const LOGS = path.join(UI, "test-results");
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

export const HYDRA_BIN = process.env.HYDRA_JOBS_BIN ?? path.join(REPO, ".venv", "bin", "hydra-jobs");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process with its output in test-results/<name>.log. */
export class Proc {
  readonly child: ChildProcess;
  readonly logFile: string;
  private readonly log: number;
  readonly exited: Promise<number | null>;

  constructor(bin: string, args: string[], env: NodeJS.ProcessEnv, name: string) {
    fs.mkdirSync(LOGS, { recursive: true });
    this.logFile = path.join(LOGS, `${name}.log`);
    this.log = fs.openSync(this.logFile, "w");
    this.child = spawn(bin, args, { env, stdio: ["ignore", this.log, this.log] });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return fs.readFileSync(this.logFile, "utf8");
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill("SIGTERM");
      const force = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(force);
    }
    fs.closeSync(this.log);
  }
}

async function waitFor(what: string, proc: Proc, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${what} exited with ${proc.child.exitCode}; its log:\n${proc.output()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready within ${START_TIMEOUT_MS / 1000} s; log: ${proc.logFile}`);
}

export interface HydraServer {
  url: string;
  adminToken: string;
  proc: Proc;
  stop: () => Promise<void>;
}

/** `hydra-jobs up` serving the built UI; `env` adds settings (e.g. REDIS_URL for distributed workers). */
export async function startHydra(name: string, env: Record<string, string> = {}): Promise<HydraServer> {
  if (!fs.existsSync(HYDRA_BIN)) throw new Error(`hydra-jobs not found at ${HYDRA_BIN} (set HYDRA_JOBS_BIN or create the .venv)`);
  const dist = path.join(UI, "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-e2e-"));
  const adminToken = `e2e-${randomBytes(24).toString("hex")}`;
  const url = `http://127.0.0.1:${port}`;
  const proc = new Proc(
    HYDRA_BIN,
    ["up", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--concurrency", "8"],
    { ...process.env, ADMIN_TOKEN: adminToken, HYDRA_UI_DIR: dist, LOG_LEVEL: "INFO", ...env },
    name,
  );
  await waitFor("hydra-jobs up", proc, async () => (await fetch(`${url}/healthz`)).ok);
  return {
    url,
    adminToken,
    proc,
    stop: async () => {
      await proc.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where redis-server is, or null (scripts/test.sh installs it). */
export function redisServerBin(): string | null {
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  return spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0 ? bin : null;
}

export async function startRedis(bin: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = new Proc(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], process.env, "redis-server");
  const pong = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
      socket.once("error", () => resolve(false));
    });
  await waitFor("redis-server", proc, pong);
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => proc.stop() };
}

/** `API_TOKEN=<token> WORKER_DOMAIN=<domain> hydra-jobs worker`, as the token modal tells operators. */
export function startWorker(redisUrl: string, token: string, domain: string): Proc {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, API_TOKEN: token, WORKER_DOMAIN: domain, LOG_LEVEL: "INFO" };
  delete env.ADMIN_TOKEN; // a worker holds its domain token only
  env.HYDRA_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-e2e-worker-"));
  return new Proc(HYDRA_BIN, ["worker", "--concurrency", "2", "--name", `e2e-${domain}`], env, `worker-${domain}`);
}
