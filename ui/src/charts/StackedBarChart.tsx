/** Runs per time bucket, stacked by status: a dependency-free SVG chart. */
import type { RunStatus } from "../api/types";
import { RUN_STATUSES } from "../api/types";
import { STATUS_COLOR, statusLabel } from "../common/statusLook";
import { niceMax, ticks } from "./scale";

export interface Bucket {
  key: string;
  /** Axis label; empty to skip. */
  label: string;
  /** Tooltip heading. */
  title: string;
  counts: Partial<Record<RunStatus, number>>;
}

const W = 800;
const PAD = { top: 12, right: 8, bottom: 26, left: 36 };

export function StackedBarChart({ buckets, height = 220 }: { buckets: Bucket[]; height?: number }) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const totals = buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + (n ?? 0), 0));
  // Counts: at least 4 so the ticks are whole numbers.
  const top = Math.max(4, niceMax(Math.max(0, ...totals)));
  const slot = buckets.length ? innerW / buckets.length : innerW;
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const present = RUN_STATUSES.filter((s) => buckets.some((b) => (b.counts[s] ?? 0) > 0));

  return (
    <div className="chart" data-testid="runs-per-hour">
      <svg viewBox={`0 0 ${W} ${height}`} width="100%" role="img" aria-label="Runs per hour by status">
        {ticks(top, [4, 5, 2].find((c) => top % c === 0) ?? 4).map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="chart-axis">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let acc = 0;
          const total = totals[i] ?? 0;
          const detail = RUN_STATUSES.filter((s) => (b.counts[s] ?? 0) > 0)
            .map((s) => `${b.counts[s]} ${statusLabel(s)}`)
            .join(", ");
          return (
            <g key={b.key}>
              <title>{`${b.title}: ${total === 0 ? "no runs" : detail}`}</title>
              <rect x={PAD.left + i * slot} y={PAD.top} width={slot} height={innerH} fill="transparent" />
              {RUN_STATUSES.map((s) => {
                const n = b.counts[s] ?? 0;
                if (n <= 0) return null;
                const y0 = y(acc);
                acc += n;
                const y1 = y(acc);
                return <rect key={s} x={x} y={y1} width={barW} height={Math.max(0.5, y0 - y1)} fill={STATUS_COLOR[s]} rx={1.5} />;
              })}
              {b.label && (
                <text x={x + barW / 2} y={height - 8} textAnchor="middle" className="chart-axis">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <div className="chart-legend">
        {present.map((s) => (
          <span key={s}>
            <i style={{ background: STATUS_COLOR[s] }} /> {statusLabel(s)}
          </span>
        ))}
        {present.length === 0 && <span className="muted">No runs in this window</span>}
      </div>
    </div>
  );
}
