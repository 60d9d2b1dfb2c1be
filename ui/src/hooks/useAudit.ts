/** The audit log of the current domain, filtered by the server, newest first, in cursor pages. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import type { AuditQuery } from "../audit/auditFilter";

export const AUDIT_PAGE = 50;

export function useAudit(filters: AuditQuery = {}, pageSize = AUDIT_PAGE) {
  return useInfiniteQuery({
    queryKey: [...qk.audit, filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/audit", { params: { query: { ...filters, limit: pageSize, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}
