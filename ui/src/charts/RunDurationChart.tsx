/** Recent runs of one job as bars: height is the duration, colour the status; click opens the run. */
import { useNavigate } from "react-router";
import type { RunSummary } from "../api/types";
import { durationBetween, formatDateTime, formatDuration } from "../common/format";
import { STATUS_COLOR, statusLabel } from "../common/statusLook";
import { useNow } from "../common/useNow";
import { niceMax, ticks } from "./scale";

const W = 800;
const PAD = { top: 10, right: 8, bottom: 10, left: 56 };

export function RunDurationChart({ runs, height = 160 }: { runs: RunSummary[]; height?: number }) {
  const navigate = useNavigate();
  const now = useNow(2_000);
  const ordered = [...runs].reverse(); // oldest on the left
  const durations = ordered.map((r) => durationBetween(r.started_at, r.finished_at, now) ?? 0);
  const top = niceMax(Math.max(1000, ...durations));
  const innerW = W - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(ordered.length, 20);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;

  if (ordered.length === 0) return <div className="muted">No runs yet.</div>;
  return (
    <svg viewBox={`0 0 ${W} ${height}`} width="100%" role="img" aria-label="Duration and status of recent runs" data-testid="duration-chart">
      {ticks(top, 2).map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="chart-grid" />
          <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="chart-axis">
            {t === 0 ? "0" : formatDuration(t)}
          </text>
        </g>
      ))}
      {ordered.map((run, i) => {
        const d = durations[i] ?? 0;
        const x = PAD.left + i * slot + (slot - barW) / 2;
        const h = Math.max(2, innerH - (y(d) - PAD.top));
        return (
          <g key={run.id} className="chart-bar" onClick={() => void navigate(`/runs/${run.id}`)}>
            <title>{`${formatDateTime(run.created_at)} · ${statusLabel(run.status)} · ${formatDuration(d)}`}</title>
            <rect x={x} y={PAD.top + innerH - h} width={barW} height={h} fill={STATUS_COLOR[run.status]} rx={1.5} />
          </g>
        );
      })}
    </svg>
  );
}
