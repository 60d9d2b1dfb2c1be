/** The NameIndex for the audit page: the jobs list, jobs cached by id, and the tokens for the admin. */
import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import type { Job } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";
import { useSession } from "../auth/useSession";
import { useJobs } from "../hooks/useJobs";
import { useTokens } from "../hooks/useTokens";
import { nameIndex, type NameIndex } from "./auditNames";

export function useAuditNames(): NameIndex {
  const session = useSession();
  const client = useQueryClient();
  const jobs = useJobs();
  // Only the admin may list tokens; a domain token's audit shows token ids as they are.
  const tokens = useTokens(session?.isAdmin ? (session.domain ?? DEFAULT_DOMAIN) : null);
  return useMemo(() => {
    const cached = client
      .getQueriesData<Job>({ queryKey: ["jobs", "detail"] })
      .flatMap(([, job]) => (job ? [job] : []));
    const listed = jobs.data?.pages.flatMap((p) => p.items) ?? [];
    return nameIndex({ jobs: [...cached, ...listed], tokens: tokens.data ?? [] });
  }, [client, jobs.data, tokens.data]);
}
