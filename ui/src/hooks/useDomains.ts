/** Domains (admin token only): the list and the writes on it. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import { rereadAfterWrite } from "../api/reread";

export function useDomains(enabled: boolean) {
  return useQuery({
    queryKey: qk.domains,
    enabled,
    staleTime: 30_000,
    queryFn: async ({ signal }) => (await unwrap(api.GET("/api/v1/domains", { signal }))).items,
  });
}

function useDomainsChanged() {
  const client = useQueryClient();
  return () => void rereadAfterWrite(client, qk.domains);
}

export function useCreateDomain() {
  const changed = useDomainsChanged();
  return useMutation({
    mutationFn: (body: { name: string; description?: string | null }) => unwrap(api.POST("/api/v1/domains", { body })),
    onSuccess: changed,
  });
}

export function useUpdateDomain() {
  const changed = useDomainsChanged();
  return useMutation({
    mutationFn: ({ name, description }: { name: string; description: string | null }) =>
      unwrap(api.PATCH("/api/v1/domains/{name}", { params: { path: { name } }, body: { description } })),
    onSuccess: changed,
  });
}

export function useDeleteDomain() {
  const changed = useDomainsChanged();
  return useMutation({
    mutationFn: async ({ name, force }: { name: string; force: boolean }) => {
      await unwrap(api.DELETE("/api/v1/domains/{name}", { params: { path: { name }, query: { force } } }));
      return name;
    },
    // A 409 ("holds jobs") means the counts shown were stale: refresh them either way.
    onSettled: changed,
  });
}
