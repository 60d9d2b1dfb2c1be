/**
 * A local stand-in for OpenAI's chat completions API (the real openai SDK in `hydra-jobs up` talks
 * to it through OPENAI_BASE_URL): a job draft for generation, a finding for analysis, in OpenAI's
 * wire format. A prompt holding "broken cron" gets a draft the server's validation rejects.
 * `GET /requests` lists the request bodies it received, for the tests to inspect.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export const STANDIN_MODEL = "stand-in-model";

export const DRAFT = {
  name: "nightly-report",
  description: "The nightly report",
  executor: { type: "shell", script: 'echo "report for $HYDRA_PARAM_DAY"' },
  schedule: { cron: "0 2 * * *", timezone: "Europe/Berlin" },
  params: { day: { default: "today" } },
};

const FINDING = {
  summary: "A file the script reads is missing.",
  probable_cause: "The script reads a path that does not exist on the worker.",
  category: "missing_file",
  evidence: [],
  suggested_fix: "Create the file or fix the path.",
  suggested_spec_patch: null,
  confidence: 0.6,
};

interface ChatRequest {
  messages?: { role: string; content: string }[];
  response_format?: { json_schema?: { name?: string } };
}

function answer(request: ChatRequest): unknown {
  const prompt = request.messages?.map((m) => m.content).join("\n") ?? "";
  if (request.response_format?.json_schema?.name === "failure_analysis") return FINDING;
  const spec = prompt.includes("broken cron") ? { ...DRAFT, schedule: { cron: "61 * * * *", timezone: "Europe/Berlin" } } : DRAFT;
  return { spec, explanation: "Runs the report every night at 02:00 Berlin time." };
}

function completion(content: string) {
  return {
    id: "chatcmpl-standin",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: STANDIN_MODEL,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 },
  };
}

export interface StandIn {
  baseUrl: string;
  url: string;
  stop: () => Promise<void>;
}

export async function startOpenAIStandIn(): Promise<StandIn> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        const data = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
        res.end(data);
      };
      if (req.method === "GET" && req.url === "/requests") return send(200, bodies);
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(404, { error: { message: `no route ${req.method ?? ""} ${req.url ?? ""}` } });
      const text = Buffer.concat(chunks).toString("utf8");
      bodies.push(text);
      send(200, completion(JSON.stringify(answer(JSON.parse(text) as ChatRequest))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
