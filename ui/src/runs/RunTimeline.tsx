/** created → queued → started → finished, with the time spent between each step. */
import { Steps } from "antd";
import { isTerminal, type RunSummary } from "../api/types";
import { durationBetween, formatDateTime, formatDuration } from "../common/format";
import { useNow } from "../common/useNow";

export function RunTimeline({ run }: { run: RunSummary }) {
  const now = useNow(1000);
  const finished = isTerminal(run.status);
  const failed = ["failed", "timed_out", "lost", "cancelled"].includes(run.status);
  const steps = [
    { key: "created", title: "Created", at: run.created_at, from: null as string | null | undefined },
    { key: "queued", title: "Queued", at: run.queued_at, from: run.created_at },
    { key: "started", title: "Started", at: run.started_at, from: run.queued_at ?? run.created_at },
    { key: "finished", title: finished ? `Finished (${run.status.replace("_", " ")})` : "Finished", at: run.finished_at, from: run.started_at ?? run.queued_at ?? run.created_at },
  ];
  const reached = steps.reduce((last, s, i) => (s.at ? i : last), 0);
  return (
    <Steps
      size="small"
      current={reached}
      status={finished ? (failed ? "error" : "finish") : "process"}
      data-testid="run-timeline"
      items={steps.map((s, i) => {
        const waited = s.at && s.from ? durationBetween(s.from, s.at) : null;
        const running = !s.at && i === reached + 1 && !finished ? durationBetween(steps[reached]?.at, null, now) : null;
        return {
          title: s.title,
          description: (
            <div className="timeline-desc" data-testid={`timeline-${s.key}`}>
              <div>{s.at ? formatDateTime(s.at) : finished ? "—" : "waiting"}</div>
              {waited !== null && <div className="muted">+{formatDuration(waited)}</div>}
              {running !== null && <div className="muted">{formatDuration(running)} so far</div>}
            </div>
          ),
        };
      })}
    />
  );
}
