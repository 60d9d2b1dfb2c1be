/**
 * Starts a real Hydra Jobs (`hydra-jobs up`: API, scheduler, local worker, SQLite) for the browser
 * tests: free port, temporary data dir, a random ADMIN_TOKEN. Returns the teardown.
 */
import { startHydra } from "./processes";

export default async function globalSetup(): Promise<() => Promise<void>> {
  const server = await startHydra("hydra-jobs");
  process.env.HYDRA_E2E_URL = server.url;
  process.env.HYDRA_E2E_TOKEN = server.adminToken;
  return server.stop;
}
