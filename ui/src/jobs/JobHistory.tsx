/** A job's history: each saved version (who, when, how), what it changed from the one before, and
 * restoring one (asked first, editors and owners only; the restore is saved as a new version). */
import { HistoryOutlined, RollbackOutlined } from "@ant-design/icons";
import { App, Button, Card, Popconfirm, Skeleton, Space, Table, Tag } from "antd";
import type { TableProps } from "antd";
import { useState } from "react";
import type { Job, JobVersionSummary } from "../api/types";
import { SpecDiff } from "../ai/SpecDiff";
import { ErrorAlert } from "../common/ErrorAlert";
import { TimeAgo } from "../common/TimeAgo";
import { useJobVersion, useJobVersions, useRestoreJobVersion } from "../hooks/useJobHistory";
import { errorText } from "../api/errors";
import { useCan } from "../auth/permissions";

const CHANGE_COLOR: Record<string, string> = { create: "green", update: "blue", restore: "gold", import: "purple" };

/** How a version came to be: "update", "restore of v2". */
export function changeWords(v: Pick<JobVersionSummary, "change" | "restored_from">): string {
  return v.change === "restore" && v.restored_from ? `restore of v${v.restored_from}` : v.change;
}

/** The spec of `version` against the one before it (version 1: the whole spec, as added). */
export function VersionDiff({ jobId, version }: { jobId: string; version: number }) {
  const after = useJobVersion(jobId, version);
  const before = useJobVersion(jobId, version - 1);
  const error = after.error ?? before.error;
  if (error) return <ErrorAlert error={error} title={`Could not load version ${version}`} />;
  if (!after.data || (version > 1 && !before.data)) return <Skeleton active paragraph={{ rows: 3 }} />;
  return (
    <div data-testid={`version-diff-${version}`}>
      <SpecDiff before={before.data?.spec ?? {}} after={after.data.spec} />
    </div>
  );
}

function RestoreButton({ job, version }: { job: Job; version: number }) {
  const { message } = App.useApp();
  const restore = useRestoreJobVersion(job.id);
  const may = useCan();
  if (!may("editor")) return null; // restoring saves the job: an editor's change
  return (
    <Popconfirm
      title={`Restore version ${version} of ${job.name}?`}
      description="Its definition becomes the job's again, saved as a new version."
      okText="Restore"
      okButtonProps={{ loading: restore.isPending, "data-testid": "confirm-restore" }}
      onConfirm={() =>
        restore.mutateAsync(version).then(
          (saved) => void message.success(`Restored version ${version}: now version ${saved.version}`),
          (e: unknown) => void message.error(errorText(e)),
        )
      }
    >
      <Button size="small" icon={<RollbackOutlined />} data-testid={`restore-version-${version}`}>
        Restore
      </Button>
    </Popconfirm>
  );
}

export function JobHistory({ job }: { job: Job }) {
  const versions = useJobVersions(job.id);
  const [open, setOpen] = useState<number | null>(null);
  const current = job.version ?? 1;
  const columns: TableProps<JobVersionSummary>["columns"] = [
    {
      title: "Version",
      dataIndex: "version",
      width: 110,
      render: (n: number) => (
        <Space size={4}>
          <b>v{n}</b>
          {n === current && <Tag color="blue">current</Tag>}
        </Space>
      ),
    },
    {
      title: "Change",
      key: "change",
      render: (_, v) => <Tag color={CHANGE_COLOR[v.change]}>{changeWords(v)}</Tag>,
    },
    { title: "By", dataIndex: "actor", render: (actor: string) => <span className="mono">{actor}</span> },
    { title: "When", dataIndex: "at", render: (at: string) => <TimeAgo iso={at} /> },
    {
      title: "",
      key: "actions",
      align: "right",
      render: (_, v) => (
        <Space size={4}>
          <Button size="small" onClick={() => setOpen(open === v.version ? null : v.version)} data-testid={`show-diff-${v.version}`}>
            {open === v.version ? "Hide changes" : "Changes"}
          </Button>
          {v.version !== current && <RestoreButton job={job} version={v.version} />}
        </Space>
      ),
    },
  ];
  return (
    <Card
      size="small"
      title={
        <Space>
          <HistoryOutlined />
          History
        </Space>
      }
      data-testid="job-history"
    >
      {versions.error ? (
        <ErrorAlert error={versions.error} title="Could not load the history" />
      ) : (
        <Table<JobVersionSummary>
          rowKey="version"
          size="small"
          loading={versions.isPending}
          dataSource={versions.data?.items ?? []}
          columns={columns}
          pagination={false}
          scroll={{ x: "max-content" }}
          expandable={{
            expandedRowKeys: open === null ? [] : [open],
            showExpandColumn: false,
            expandedRowRender: (v) => <VersionDiff jobId={job.id} version={v.version} />,
          }}
        />
      )}
      {versions.data?.next_cursor && <div className="muted">The {versions.data.items.length} newest versions are shown.</div>}
    </Card>
  );
}
