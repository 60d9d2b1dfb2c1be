/** A domain's tokens (the admin's, or an owner token's own domain). The created token's secret never enters the query cache. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import type { Role } from "../auth/session";
import { rereadAfterWrite } from "../api/reread";

export function useTokens(domain: string | null) {
  return useQuery({
    queryKey: qk.tokens(domain ?? ""),
    enabled: domain !== null,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET("/api/v1/domains/{name}/tokens", { params: { path: { name: domain ?? "" } }, signal }))).items,
  });
}

/** Token writes change the domain's token count too: refresh the domains and every token list. */
function useTokensChanged() {
  const client = useQueryClient();
  return () => void rereadAfterWrite(client, qk.domains);
}

export function useCreateToken() {
  const changed = useTokensChanged();
  return useMutation({
    // The answer holds the secret: once the caller has it (and resets), drop it from the cache.
    gcTime: 0,
    mutationFn: ({ domain, name, role }: { domain: string; name: string; role: Role }) =>
      unwrap(api.POST("/api/v1/domains/{name}/tokens", { params: { path: { name: domain } }, body: { name, role } })),
    onSuccess: changed,
  });
}

export function useSetTokenRole() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ domain, tokenId, role }: { domain: string; tokenId: string; role: Role }) =>
      unwrap(
        api.PATCH("/api/v1/domains/{name}/tokens/{token_id}", {
          params: { path: { name: domain, token_id: tokenId } },
          body: { role },
        }),
      ),
    onSuccess: (_, { domain }) => void rereadAfterWrite(client, qk.tokens(domain)),
  });
}

export function useRevokeToken() {
  const changed = useTokensChanged();
  return useMutation({
    mutationFn: ({ domain, tokenId }: { domain: string; tokenId: string }) =>
      unwrap(api.DELETE("/api/v1/domains/{name}/tokens/{token_id}", { params: { path: { name: domain, token_id: tokenId } } })),
    onSuccess: changed,
  });
}
