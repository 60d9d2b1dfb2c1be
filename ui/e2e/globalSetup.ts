/**
 * Starts a real Hydra Jobs (`hydra-jobs up`: API, scheduler, local worker, SQLite) for the browser
 * tests: free port, temporary data dir, a random ADMIN_TOKEN. Returns the teardown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UI = path.resolve(HERE, "..");
const REPO = path.resolve(UI, "..");
const START_TIMEOUT_MS = 60_000;

function freePort(): Promise<number> {
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

async function waitUntilUp(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`hydra-jobs exited with ${child.exitCode}; its log:\n${fs.readFileSync(logFile, "utf8")}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`hydra-jobs did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s; log: ${logFile}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = process.env.HYDRA_JOBS_BIN ?? path.join(REPO, ".venv", "bin", "hydra-jobs");
  if (!fs.existsSync(bin)) throw new Error(`hydra-jobs not found at ${bin} (set HYDRA_JOBS_BIN or create the .venv)`);
  const dist = path.join(UI, "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");

  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-e2e-"));
  const token = `e2e-${randomBytes(24).toString("hex")}`;
  const url = `http://127.0.0.1:${port}`;
  fs.mkdirSync(path.join(UI, "test-results"), { recursive: true });
  const logFile = path.join(UI, "test-results", "hydra-jobs.log");
  const log = fs.openSync(logFile, "w");

  const child = spawn(bin, ["up", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--concurrency", "8"], {
    env: { ...process.env, ADMIN_TOKEN: token, HYDRA_UI_DIR: dist, LOG_LEVEL: "INFO" },
    stdio: ["ignore", log, log],
    detached: false,
  });
  await waitUntilUp(url, child, logFile);

  process.env.HYDRA_E2E_URL = url;
  process.env.HYDRA_E2E_TOKEN = token;

  return async () => {
    child.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, 15_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      if (child.exitCode !== null) resolve();
    });
    fs.closeSync(log);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
