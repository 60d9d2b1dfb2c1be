import { Table } from "antd";
import { Link } from "react-router";
import type { JobStat } from "../api/types";
import { formatDuration } from "../common/format";

export function JobStatTable({ rows, kind }: { rows: JobStat[]; kind: "slowest" | "failing" }) {
  return (
    <Table<JobStat>
      size="small"
      rowKey="job_id"
      pagination={false}
      dataSource={rows}
      locale={{ emptyText: kind === "slowest" ? "No finished runs" : "No failures" }}
      columns={[
        { title: "Job", dataIndex: "job_name", render: (name: string, r) => <Link to={`/jobs/${r.job_id}`}>{name}</Link> },
        { title: "Runs", dataIndex: "runs", width: 70, align: "right" },
        kind === "failing"
          ? { title: "Failures", dataIndex: "failures", width: 90, align: "right" }
          : { title: "Avg", dataIndex: "avg_seconds", width: 100, align: "right", render: (s: number | null) => formatDuration(s === null ? null : s * 1000) },
        { title: "Max", dataIndex: "max_seconds", width: 100, align: "right", render: (s: number | null) => formatDuration(s === null ? null : s * 1000) },
      ]}
    />
  );
}
