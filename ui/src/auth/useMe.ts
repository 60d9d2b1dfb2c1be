/** `GET /me` for the signed-in token, folded back into the session (a stored one may be stale). */
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap } from "../api/client";
import { qk } from "../api/queryKeys";
import { sessionStore, type Session } from "./session";

export function useMe(session: Session) {
  const me = useQuery({
    queryKey: qk.me,
    staleTime: 60_000,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/me", { signal })),
  });
  const data = me.data;
  useEffect(() => {
    if (data) sessionStore.confirm(session.token, data);
  }, [data, session.token]);
  return me;
}
