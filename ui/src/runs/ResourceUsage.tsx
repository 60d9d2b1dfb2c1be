import { Descriptions } from "antd";
import { formatBytes, formatDuration } from "../common/format";

const KNOWN: Record<string, { label: string; format: (v: number) => string }> = {
  wall_seconds: { label: "Wall time", format: (v) => formatDuration(v * 1000) },
  cpu_user_seconds: { label: "CPU user", format: (v) => formatDuration(v * 1000) },
  cpu_system_seconds: { label: "CPU system", format: (v) => formatDuration(v * 1000) },
  peak_rss_bytes: { label: "Peak memory (RSS)", format: formatBytes },
};

/** The OS's numbers for a finished run; unknown keys are shown raw. */
export function ResourceUsage({ usage }: { usage: Record<string, number> | null | undefined }) {
  if (!usage || Object.keys(usage).length === 0) return <span className="muted">Recorded when the run ends.</span>;
  return (
    <Descriptions size="small" column={1} data-testid="resource-usage">
      {Object.entries(usage).map(([key, value]) => {
        const known = KNOWN[key];
        return (
          <Descriptions.Item key={key} label={known?.label ?? key}>
            {known ? known.format(value) : String(value)}
          </Descriptions.Item>
        );
      })}
    </Descriptions>
  );
}
