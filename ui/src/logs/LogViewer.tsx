/**
 * The run log: virtualised rows (100,000 lines scroll smoothly), line numbers, ANSI colours as
 * styled spans, search with next/previous, follow-the-tail while running, download, and a jump to
 * a line (`focus`, e.g. an analysis' evidence), which is then highlighted.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { Alert } from "antd";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useDebouncedValue } from "../common/useDebouncedValue";
import { downloadText } from "./download";
import type { LogBuffer } from "./logBuffer";
import { LogLineText } from "./LogLine";
import { LogToolbar } from "./LogToolbar";

export const ROW_HEIGHT = 19; // px; fixed so that virtualisation needs no measuring

interface Props {
  buffer: LogBuffer;
  version: number;
  live: boolean;
  fileName: string;
  emptyText: string;
  truncated?: boolean;
  height?: number | string;
  /** Scroll to and highlight this 1-based line; a new `seq` jumps again to the same line. */
  focus?: LogFocus | null;
}

export interface LogFocus {
  line: number;
  seq: number;
}

export function LogViewer({ buffer, version, live, fileName, emptyText, truncated, height = "60vh", focus = null }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const [matchIndex, setMatchIndex] = useState(0);
  const search = useDebouncedValue(query, 200);
  const count = buffer.lineCount;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
  });

  // eslint-disable-next-line react-hooks/exhaustive-deps
  const matches = useMemo(() => buffer.search(search), [buffer, search, version]);
  const current = matches.length ? Math.min(matchIndex, matches.length - 1) : -1;
  const currentLine = current >= 0 ? (matches[current] ?? -1) : -1;

  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: "end" });
  }, [follow, count, version, virtualizer]);

  const jump = useCallback(
    (delta: number) => {
      if (!matches.length) return;
      const next = (current + delta + matches.length) % matches.length;
      setMatchIndex(next);
      setFollow(false);
      const line = matches[next];
      if (line !== undefined) virtualizer.scrollToIndex(line, { align: "center" });
    },
    [matches, current, virtualizer],
  );

  useEffect(() => {
    setMatchIndex(0);
    const first = matches[0];
    if (search && first !== undefined) {
      setFollow(false);
      virtualizer.scrollToIndex(first, { align: "center" });
    }
    // Only when the search text changes, not on every new line.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  const focusIndex = focus ? focus.line - 1 : -1;
  useEffect(() => {
    if (!focus) return;
    setFollow(false);
    virtualizer.scrollToIndex(Math.min(focus.line - 1, Math.max(count - 1, 0)), { align: "center" });
    const box = scrollRef.current;
    if (box && typeof box.scrollIntoView === "function") box.scrollIntoView({ block: "nearest", behavior: "smooth" });
    // Only when asked to jump, not when lines arrive.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus?.seq]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT * 2;
    if (!atBottom && follow) setFollow(false);
    else if (atBottom && !follow && live) setFollow(true);
  };

  const gutter = `${String(Math.max(count, 1)).length + 1}ch`;
  return (
    <div className="log-viewer" data-testid="log-viewer">
      <LogToolbar
        query={query}
        onQuery={setQuery}
        matchCount={matches.length}
        matchIndex={Math.max(0, current)}
        onNext={() => jump(1)}
        onPrev={() => jump(-1)}
        follow={follow}
        onFollow={setFollow}
        onDownload={() => downloadText(fileName, buffer.plainText())}
        lineCount={count}
        live={live}
      />
      {truncated && <Alert type="warning" banner message="The output reached the size cap and was truncated by the worker." />}
      <div ref={scrollRef} className="log-scroll" style={{ height }} onScroll={onScroll} data-testid="log-scroll">
        {count === 0 ? (
          <div className="log-empty">{emptyText}</div>
        ) : (
          <div className="log-rows" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => {
              const parsed = buffer.parsed(row.index);
              return (
                <div
                  key={row.key}
                  className={`log-row${row.index === currentLine ? " log-row-current" : ""}${row.index === focusIndex ? " log-row-focus" : ""}`}
                  style={{ transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}
                  data-testid="log-line"
                  data-line={row.index + 1}
                  data-focused={row.index === focusIndex ? "true" : undefined}
                >
                  <span className="log-gutter" style={{ width: gutter }}>
                    {row.index + 1}
                  </span>
                  <span className="log-text">{parsed ? <LogLineText parsed={parsed} query={search} /> : null}</span>
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
