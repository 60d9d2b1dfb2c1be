/** A run's output, followed live over SSE into a LogBuffer; re-renders at most every 100 ms. */
import { useEffect, useRef, useState } from "react";
import { errorText } from "../api/errors";
import { authHeaders, sessionStore } from "../auth/session";
import { LogBuffer } from "./logBuffer";
import { LogFollower, type LogEnd } from "./logFollower";

const RENDER_EVERY_MS = 100;

export interface RunLog {
  buffer: LogBuffer;
  /** Changes whenever the buffer grew. */
  version: number;
  end: LogEnd | null;
  error: string | null;
}

export function useRunLog(runId: string): RunLog {
  const [state, setState] = useState<{ runId: string; buffer: LogBuffer }>(() => ({ runId, buffer: new LogBuffer() }));
  const buffer = state.runId === runId ? state.buffer : null;
  const [version, setVersion] = useState(0);
  const [end, setEnd] = useState<LogEnd | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const fresh = new LogBuffer();
    setState({ runId, buffer: fresh });
    setEnd(null);
    setError(null);
    setVersion(0);
    const bump = () => {
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        setVersion((v) => v + 1);
      }, RENDER_EVERY_MS);
    };
    const follower = new LogFollower({
      fetch: (input, init) => window.fetch(input, init),
      url: `/api/v1/runs/${encodeURIComponent(runId)}/logs/stream`,
      headers: () => authHeaders(sessionStore.get()),
      onData: (text) => {
        fresh.append(text);
        setError(null);
        bump();
      },
      onEnd: (e) => {
        setEnd(e);
        bump();
      },
      onError: (e, willRetry) => setError(`${errorText(e)}${willRetry ? " (retrying)" : ""}`),
    });
    follower.start();
    return () => {
      follower.stop();
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [runId]);

  return { buffer: buffer ?? state.buffer, version, end, error };
}
