import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import { usePollInterval } from "../live/useConnection";

export function useStats(hours = 24) {
  const refetchInterval = usePollInterval(10_000);
  return useQuery({
    queryKey: qk.stats(hours),
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/stats", { params: { query: { hours } }, signal })),
    // Even when live, the hour buckets roll over: refresh once a minute.
    refetchInterval: refetchInterval || 60_000,
  });
}
