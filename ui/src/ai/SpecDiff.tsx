/** A suggested change as a line diff of the job spec's JSON: text only, + and − marked. */
import { useMemo } from "react";
import { lineDiff } from "./lineDiff";

const MARK = { same: " ", added: "+", removed: "-" } as const;

export function SpecDiff({ before, after }: { before: unknown; after: unknown }) {
  const diff = useMemo(() => lineDiff(JSON.stringify(before, null, 2), JSON.stringify(after, null, 2)), [before, after]);
  return (
    <pre className="code-block spec-diff" data-testid="spec-diff">
      {diff.map((line, i) => (
        <div key={i} className={`diff-${line.kind}`} data-kind={line.kind}>
          {MARK[line.kind]} {line.text}
        </div>
      ))}
    </pre>
  );
}
