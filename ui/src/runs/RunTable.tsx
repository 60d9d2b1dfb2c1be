/** A table of run summaries, shared by the runs page, job detail, dashboard and worker views. */
import { Table, Typography } from "antd";
import type { TableProps } from "antd";
import { useMemo } from "react";
import { Link } from "react-router";
import type { RunSummary } from "../api/types";
import { durationBetween, formatDuration, shortId } from "../common/format";
import { StatusTag } from "../common/StatusTag";
import { TimeAgo } from "../common/TimeAgo";
import { useNow } from "../common/useNow";

type Column = "job" | "worker" | "trigger" | "error";

/** A run's duration; only an unfinished run's ticks (a table re-rendered each second for every
 * row, finished or not, made paging through a big history slow: issue 19). */
function Duration({ run }: { run: RunSummary }) {
  const ticking = Boolean(run.started_at && !run.finished_at);
  const now = useNow(1000, ticking);
  return <>{formatDuration(durationBetween(run.started_at, run.finished_at, now))}</>;
}

export function RunTable({
  runs,
  loading,
  hide = [],
  footer,
}: {
  runs: RunSummary[];
  loading?: boolean;
  hide?: Column[];
  footer?: TableProps<RunSummary>["footer"];
}) {
  const hidden = hide.join(",");
  const columns = useMemo(() => runColumns(hidden.split(",") as Column[]), [hidden]);
  return (
    <Table<RunSummary>
      size="small"
      rowKey="id"
      loading={loading}
      dataSource={runs}
      columns={columns}
      pagination={false}
      footer={footer}
      scroll={{ x: 800 }}
      data-testid="run-table"
    />
  );
}

function runColumns(hide: Column[]): TableProps<RunSummary>["columns"] {
  const show = (c: Column) => !hide.includes(c);
  return [
    {
      title: "Run",
      dataIndex: "id",
      width: 130,
      render: (id: string) => (
        <Link to={`/runs/${id}`} className="mono">
          {shortId(id)}
        </Link>
      ),
    },
    ...(show("job")
      ? [{ title: "Job", dataIndex: "job_name", render: (name: string, r: RunSummary) => <Link to={`/jobs/${r.job_id}`}>{name}</Link> }]
      : []),
    { title: "Status", dataIndex: "status", width: 130, render: (_: unknown, r: RunSummary) => <StatusTag status={r.status} /> },
    { title: "Exit", dataIndex: "exit_code", width: 60, align: "right" as const, render: (c: number | null) => c ?? "—" },
    ...(show("trigger")
      ? [{ title: "Trigger", dataIndex: "trigger", width: 100, render: (t: string, r: RunSummary) => (r.attempt > 1 ? `${t} · #${r.attempt}` : t) }]
      : []),
    { title: "Created", dataIndex: "created_at", width: 120, render: (t: string) => <TimeAgo iso={t} /> },
    {
      title: "Duration",
      key: "duration",
      width: 110,
      align: "right" as const,
      render: (_: unknown, r: RunSummary) => <Duration run={r} />,
    },
    ...(show("worker")
      ? [{ title: "Worker", dataIndex: "worker_id", width: 140, render: (w: string | null) => w ?? "—" }]
      : []),
    ...(show("error")
      ? [
          {
            title: "Error",
            dataIndex: "error",
            ellipsis: true,
            render: (e: string | null) => (e ? <Typography.Text type="danger">{e}</Typography.Text> : null),
          },
        ]
      : []),
  ];
}
