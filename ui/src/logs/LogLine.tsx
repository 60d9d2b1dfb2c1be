/** One log line as styled spans: text nodes only, never HTML. */
import { memo } from "react";
import type { ParsedLine } from "./ansi";
import { sgrStyle } from "./ansiStyle";
import { splitMatches } from "./logBuffer";

export const LogLineText = memo(function LogLineText({ parsed, query }: { parsed: ParsedLine; query: string }) {
  return (
    <>
      {parsed.segments.map((segment, i) => {
        const style = sgrStyle(segment.state);
        if (!query) {
          return (
            <span key={i} style={style}>
              {segment.text}
            </span>
          );
        }
        return (
          <span key={i} style={style}>
            {splitMatches(segment.text, query).map(([text, hit], j) =>
              hit ? (
                <mark key={j} className="log-hit">
                  {text}
                </mark>
              ) : (
                text
              ),
            )}
          </span>
        );
      })}
    </>
  );
});
