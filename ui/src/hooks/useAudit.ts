/** The audit log of the current domain, newest first, in cursor pages ("load more"). */
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";

export const AUDIT_PAGE = 50;

export function useAudit(pageSize = AUDIT_PAGE) {
  return useInfiniteQuery({
    queryKey: qk.audit,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/audit", { params: { query: { limit: pageSize, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}
