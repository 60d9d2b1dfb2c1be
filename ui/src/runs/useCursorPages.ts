import { useCallback, useMemo, useState } from "react";

/** Cursor paging state: the cursors of the pages visited, so "Previous" works with forward-only cursors. */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | null)[] }>({ key: resetKey, stack: [null] });
  const stack = useMemo(() => (state.key === resetKey ? state.stack : [null]), [state, resetKey]);
  const cursor = stack[stack.length - 1] ?? null;
  const next = useCallback((nextCursor: string) => setState({ key: resetKey, stack: [...stack, nextCursor] }), [resetKey, stack]);
  const prev = useCallback(() => setState({ key: resetKey, stack: stack.slice(0, -1) }), [resetKey, stack]);
  const first = useCallback(() => setState({ key: resetKey, stack: [null] }), [resetKey]);
  return { cursor, page: stack.length, next, prev, first, hasPrev: stack.length > 1 };
}
