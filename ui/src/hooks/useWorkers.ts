import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import { usePollInterval } from "../live/useConnection";
import { rereadAfterWrite } from "../api/reread";

export function useWorkers() {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: qk.workers,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/workers", { signal })),
    refetchInterval,
  });
}

export function useDrainWorker() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/workers/{worker_id}/drain", { params: { path: { worker_id: id } } })),
    onSuccess: () => void rereadAfterWrite(client, qk.workers),
  });
}
