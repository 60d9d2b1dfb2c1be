/** Notifications: channels, delivery logs, the domain's rules and windows, job snoozes. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { rereadAfterWrite } from "../api/reread";
import { qk, type DeliveryFilter } from "../api/queryKeys";
import type { ChannelCreate, NotifySettings } from "../api/types";

const PENDING_POLL_MS = 1000; // while a delivery is pending, its outcome is a second away

export function useChannels() {
  return useQuery({
    queryKey: qk.channels,
    queryFn: async ({ signal }) => (await unwrap(api.GET("/api/v1/channels", { signal }))).items,
  });
}

export function useCreateChannel() {
  const client = useQueryClient();
  return useMutation({
    // The body holds the channel's secret: never kept in the cache.
    gcTime: 0,
    mutationFn: (body: ChannelCreate) => unwrap(api.POST("/api/v1/channels", { body })),
    onSuccess: () => void rereadAfterWrite(client, qk.channels),
  });
}

export function useDeleteChannel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(api.DELETE("/api/v1/channels/{name}", { params: { path: { name } } })),
    onSuccess: () => void rereadAfterWrite(client, ["notify"]),
  });
}

export function useTestChannel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(api.POST("/api/v1/channels/{name}/test", { params: { path: { name } } })),
    // The log is opened by the same click: its first read races this write.
    onSuccess: () => rereadAfterWrite(client, qk.deliveriesAll),
  });
}

/** A channel's delivery log, or the alert history of a job or a run; polls while any is pending. */
export function useDeliveries(filter: DeliveryFilter, enabled = true) {
  return useQuery({
    queryKey: qk.deliveries(filter),
    enabled,
    queryFn: async ({ signal }) => {
      if (filter.channel) {
        return (
          await unwrap(
            api.GET("/api/v1/channels/{name}/deliveries", { params: { path: { name: filter.channel }, query: { limit: 100 } }, signal }),
          )
        ).items;
      }
      const query = { limit: 100, job_id: filter.jobId, run_id: filter.runId };
      return (await unwrap(api.GET("/api/v1/deliveries", { params: { query }, signal }))).items;
    },
    refetchInterval: (query) => (query.state.data?.some((d) => d.status === "pending") ? PENDING_POLL_MS : false),
  });
}

export function useNotifyRules() {
  return useQuery({
    queryKey: qk.notifyRules,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/notify-rules", { signal })),
  });
}

export function useSetNotifyRules() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NotifySettings) => unwrap(api.PUT("/api/v1/notify-rules", { body })),
    onSuccess: (saved) => client.setQueryData(qk.notifyRules, saved),
  });
}

export function useSnoozes() {
  return useQuery({
    queryKey: qk.snoozes,
    queryFn: async ({ signal }) => (await unwrap(api.GET("/api/v1/snoozes", { signal }))).items,
  });
}

export function useSnoozeJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ jobId, until, reason }: { jobId: string; until: string; reason?: string }) =>
      unwrap(api.PUT("/api/v1/jobs/{job_id}/snooze", { params: { path: { job_id: jobId } }, body: { until, reason: reason ?? null } })),
    onSuccess: () => void rereadAfterWrite(client, qk.snoozes),
  });
}

export function useUnsnoozeJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => unwrap(api.DELETE("/api/v1/jobs/{job_id}/snooze", { params: { path: { job_id: jobId } } })),
    onSuccess: () => void rereadAfterWrite(client, qk.snoozes),
  });
}
