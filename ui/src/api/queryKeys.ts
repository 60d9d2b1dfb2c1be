/** TanStack Query keys, in one place so the live cache sync and the hooks agree. */

export interface RunFilter {
  jobId?: string;
  statuses?: string[];
  workerId?: string;
  since?: string;
  until?: string;
  limit?: number;
}

export const qk = {
  jobsAll: ["jobs", "list"] as const,
  jobs: (search: string) => ["jobs", "list", { search }] as const,
  job: (id: string) => ["jobs", "detail", id] as const,
  runsAll: ["runs", "list"] as const,
  runs: (filter: RunFilter, cursor: string | null) => ["runs", "list", filter, cursor] as const,
  run: (id: string) => ["runs", "detail", id] as const,
  workers: ["workers"] as const,
  statsAll: ["stats"] as const,
  stats: (hours: number) => ["stats", hours] as const,
  preview: (cron: string, timezone: string) => ["schedule-preview", cron, timezone] as const,
  validate: (specJson: string) => ["validate", specJson] as const,
  me: ["me"] as const,
  domains: ["domains"] as const,
  tokens: (domain: string) => ["domains", domain, "tokens"] as const,
  audit: ["audit"] as const,
  aiProviders: ["ai", "providers"] as const,
  analysis: (runId: string) => ["ai", "analysis", runId] as const,
  jobFailures: (jobId: string) => ["ai", "failures", jobId] as const,
  channels: ["notify", "channels"] as const,
  deliveriesAll: ["notify", "deliveries"] as const,
  deliveries: (filter: DeliveryFilter) => ["notify", "deliveries", filter] as const,
  notifyRules: ["notify", "rules"] as const,
  snoozes: ["notify", "snoozes"] as const,
};

export interface DeliveryFilter {
  channel?: string;
  jobId?: string;
  runId?: string;
}
