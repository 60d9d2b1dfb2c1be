/**
 * Starts a real Hydra Jobs (`hydra-jobs up`: API, scheduler, local worker, SQLite) for the browser
 * tests: free port, temporary data dir, a random ADMIN_TOKEN, and OpenAI pointed at a local
 * stand-in (e2e/openaiStandIn.ts) so the AI generator answers, and file:// git sources allowed (the
 * git-source tests fetch from repositories they make in temp dirs). Returns the teardown.
 */
import { startOpenAIStandIn } from "./openaiStandIn";
import { startHydra } from "./processes";

export default async function globalSetup(): Promise<() => Promise<void>> {
  const openai = await startOpenAIStandIn();
  const server = await startHydra("hydra-jobs", {
    OPENAI_API_KEY: "test-key",
    OPENAI_BASE_URL: openai.baseUrl,
    HYDRA_AI_PROVIDER: "openai",
    HYDRA_GIT_ALLOW_FILE: "true",
    // The alerts spec's webhook receiver listens on 127.0.0.1, which channels may not reach by default.
    HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS: "true",
  });
  process.env.HYDRA_E2E_URL = server.url;
  process.env.HYDRA_E2E_TOKEN = server.adminToken;
  process.env.HYDRA_E2E_OPENAI_URL = openai.url;
  return async () => {
    await server.stop();
    await openai.stop();
  };
}
