import { useSyncExternalStore } from "react";
import type { ConnectionState } from "./eventStream";
import { eventStream } from "./eventStreamInstance";

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(eventStream.subscribe, eventStream.getState);
}

/** Refetch interval for queries: none while events keep the cache fresh, `ms` once we fell back to polling. */
export function usePollInterval(ms = 5_000): number | false {
  const state = useConnectionState();
  return state === "polling" || state === "disconnected" || state === "offline" ? ms : false;
}
