/** Schedule preview and spec validation for the job editor. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";

export function useSchedulePreview(cron: string, timezone: string, enabled: boolean) {
  return useQuery({
    queryKey: qk.preview(cron, timezone),
    enabled: enabled && cron.trim() !== "",
    retry: false,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/schedules/preview", {
          params: { query: { cron, timezone: timezone || "UTC", count: 5 } },
          signal,
        }),
      ),
  });
}

/** `specJson` is the serialized draft (the query key); the server is the validator, any shape may be sent. */
export function useValidateJob(specJson: string, enabled: boolean) {
  return useQuery({
    queryKey: qk.validate(specJson),
    enabled,
    retry: false,
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/jobs/validate", {
          body: JSON.parse(specJson) as Record<string, unknown>,
          signal,
        }),
      ),
  });
}
