/** The attempts of one logical run: follows `retry_of` back to the first, and finds later retries. */
import { useQuery } from "@tanstack/react-query";
import { Space, Typography } from "antd";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import type { Run, RunSummary } from "../api/types";
import { shortId } from "../common/format";
import { StatusTag } from "../common/StatusTag";
import { useRuns } from "../hooks/useRuns";

const MAX_CHAIN = 10;

/** Earlier attempts, oldest first (one GET per hop, at most MAX_CHAIN). */
function useEarlier(run: Run): RunSummary[] {
  const chain = useQuery({
    queryKey: ["runs", "chain", run.retry_of],
    enabled: Boolean(run.retry_of),
    staleTime: 10_000,
    queryFn: async ({ signal }) => {
      const found: Run[] = [];
      let next = run.retry_of ?? null;
      while (next && found.length < MAX_CHAIN) {
        const hop = await unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: next } }, signal }));
        found.unshift(hop);
        next = hop.retry_of ?? null;
      }
      return found;
    },
  });
  return run.retry_of ? (chain.data ?? []) : [];
}

/** Later attempts: runs of the same job that retry this one, and their retries. */
function useLater(run: Run): RunSummary[] {
  const runs = useRuns({ jobId: run.job_id, limit: 100 });
  const items = runs.data?.items ?? [];
  const later: RunSummary[] = [];
  let current = run.id;
  for (let i = 0; i < MAX_CHAIN; i++) {
    const next = items.find((r) => r.retry_of === current);
    if (!next) break;
    later.push(next);
    current = next.id;
  }
  return later;
}

export function AttemptChain({ run }: { run: Run }) {
  const chain: RunSummary[] = [...useEarlier(run), run, ...useLater(run)];
  if (chain.length === 1) return <span className="muted">First and only attempt.</span>;
  return (
    <Space direction="vertical" size={4} data-testid="attempt-chain">
      {chain.map((r) => (
        <Space key={r.id} size={8}>
          <Typography.Text strong={r.id === run.id}>#{r.attempt}</Typography.Text>
          {r.id === run.id ? (
            <span className="mono">{shortId(r.id)} (this run)</span>
          ) : (
            <Link to={`/runs/${r.id}`} className="mono">
              {shortId(r.id)}
            </Link>
          )}
          <StatusTag status={r.status} />
        </Space>
      ))}
    </Space>
  );
}
