/** Domains and tokens (admin). The API answers 501 today; these hooks surface that as an ApiError. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, postJson, unwrap } from "../api/client";
import { ApiError } from "../api/errors";
import { qk } from "../api/queryKeys";
import { readCreatedToken, readDomains, type CreatedToken } from "../domains/domainData";

export function useDomains(enabled: boolean) {
  return useQuery({
    queryKey: qk.domains,
    enabled,
    retry: false,
    staleTime: 30_000,
    queryFn: async ({ signal }) => readDomains(await unwrap<unknown>(api.GET("/api/v1/domains", { signal }))),
  });
}

export function useCreateDomain() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; description?: string }) => postJson("/api/v1/domains", input),
    onSuccess: () => void client.invalidateQueries({ queryKey: qk.domains }),
  });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (input: { domain: string; name: string }): Promise<CreatedToken> => {
      const data = await postJson("/api/v1/domains/{name}/tokens", { name: input.name }, { name: input.domain });
      const token = readCreatedToken(data);
      if (!token) throw new ApiError(200, "the server answered without a token");
      return token;
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: qk.domains }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { domain: string; tokenId: string }) =>
      unwrap<unknown>(
        api.DELETE("/api/v1/domains/{name}/tokens/{token_id}", {
          params: { path: { name: input.domain, token_id: input.tokenId } },
        }),
      ),
    onSuccess: () => void client.invalidateQueries({ queryKey: qk.domains }),
  });
}
