import { Alert, App, Button, Popconfirm, Progress, Space, Switch, Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import { useState } from "react";
import { Link } from "react-router";
import { errorText } from "../api/errors";
import type { Worker, WorkerStatus } from "../api/types";
import { useCan } from "../auth/permissions";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime, formatDuration, shortId } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { useNow } from "../common/useNow";
import { useDrainWorker, useWorkers } from "../hooks/useWorkers";
import { plural } from "../common/plural";

/** "3 s ago", "2 m 10 s ago": heartbeats come every few seconds, so whole seconds. */
function heartbeatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s ago` : `${formatDuration(s * 1000)} ago`;
}

/** Offline workers are history (the server forgets them after HYDRA_WORKER_RETENTION_HOURS): shown only when asked. */
export function visibleWorkers(items: Worker[], showOffline: boolean): Worker[] {
  return showOffline ? items : items.filter((w) => w.status !== "offline");
}

const STATUS_COLOR: Record<WorkerStatus, string> = { online: "green", draining: "gold", offline: "default" };
const STALE_HEARTBEAT_MS = 30_000;

function Slots({ worker }: { worker: Worker }) {
  const used = (worker.running ?? []).length;
  const total = Math.max(worker.concurrency, 1);
  return (
    <Tooltip title={`${used} of ${plural(worker.concurrency, "slot")} in use, ${Math.max(0, worker.concurrency - used)} free`}>
      <div style={{ width: 140 }} data-testid="worker-slots">
        <Progress percent={Math.round((used / total) * 100)} size="small" format={() => `${used}/${worker.concurrency}`} />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {Math.max(0, worker.concurrency - used)} free
        </Typography.Text>
      </div>
    </Tooltip>
  );
}

function DrainButton({ worker }: { worker: Worker }) {
  const { message } = App.useApp();
  const drain = useDrainWorker();
  const may = useCan();
  if (!may("operator")) return null;
  return (
    <Popconfirm
      title={`Drain ${worker.name}?`}
      description="It stops taking new runs and finishes the ones it has."
      okText="Drain"
      onConfirm={() =>
        drain.mutateAsync(worker.id).then(
          () => void message.info(`${worker.name} is draining`),
          (e: unknown) => void message.error(errorText(e)),
        )
      }
    >
      <Button size="small" disabled={worker.status !== "online"} loading={drain.isPending} data-testid="drain-worker">
        Drain
      </Button>
    </Popconfirm>
  );
}

export function WorkersPage() {
  const workers = useWorkers();
  const now = useNow(1000);
  const [showOffline, setShowOffline] = useState(false);
  const all = workers.data?.items ?? [];
  const offline = all.filter((w) => w.status === "offline").length;
  const items = visibleWorkers(all, showOffline);
  const columns: TableProps<Worker>["columns"] = [
    {
      title: "Worker",
      dataIndex: "name",
      render: (name: string, w) => (
        <div>
          <b data-testid="worker-name">{name}</b>
          <div className="mono muted">{w.id}</div>
        </div>
      ),
    },
    {
      title: "Status",
      dataIndex: "status",
      width: 100,
      render: (s: WorkerStatus) => (
        <Tag color={STATUS_COLOR[s]} data-testid="worker-status">
          {s}
        </Tag>
      ),
    },
    {
      title: "Platform",
      key: "platform",
      render: (_, w) => (
        <div>
          {w.platform} · {w.hostname}
          <div className="muted">
            v{w.version} · {w.executors.join(", ")}
          </div>
        </div>
      ),
    },
    {
      title: "Queues / tags",
      key: "queues",
      render: (_, w) => (
        <Space wrap size={4}>
          {w.queues.map((q) => (
            <Tag key={q} color="blue" className="mono">
              {q}
            </Tag>
          ))}
          {Object.entries(w.tags ?? {}).map(([k, v]) => (
            <Tag key={k} className="mono">
              {k}={v}
            </Tag>
          ))}
        </Space>
      ),
    },
    { title: "Slots", key: "slots", width: 160, render: (_, w) => <Slots worker={w} /> },
    {
      title: "Heartbeat",
      dataIndex: "last_heartbeat_at",
      width: 110,
      render: (t: string, w) => {
        const age = now - Date.parse(t);
        const stale = w.status !== "offline" && age > STALE_HEARTBEAT_MS;
        return (
          <Tooltip title={`Last: ${formatDateTime(t)} · started ${formatDateTime(w.started_at)}`}>
            <Typography.Text type={stale ? "danger" : undefined} data-testid="heartbeat-age">
              {heartbeatAge(age)}
            </Typography.Text>
          </Tooltip>
        );
      },
    },
    {
      title: "Running",
      key: "running",
      render: (_, w) =>
        (w.running ?? []).length === 0 ? (
          <span className="muted">idle</span>
        ) : (
          <Space wrap size={4}>
            {(w.running ?? []).map((id) => (
              <Link key={id} to={`/runs/${id}`} className="mono">
                {shortId(id)}
              </Link>
            ))}
          </Space>
        ),
    },
    {
      title: "",
      key: "actions",
      width: 150,
      render: (_, w) => (
        <Space size={4}>
          <DrainButton worker={w} />
          <Link to={`/runs?worker=${encodeURIComponent(w.id)}`}>History</Link>
        </Space>
      ),
    },
  ];
  return (
    <div data-testid="workers-page">
      <PageTitle
        title="Workers"
        sub={`${all.filter((w) => w.status === "online").length} online, ${all.filter((w) => w.status === "draining").length} draining, ${offline} offline`}
      />
      <Space style={{ marginBottom: 12 }}>
        <Switch checked={showOffline} onChange={setShowOffline} size="small" id="show-offline" data-testid="show-offline" />
        <label htmlFor="show-offline" data-testid="offline-count">
          Show offline workers ({offline})
        </label>
      </Space>
      <ErrorAlert error={workers.error} title="Could not load workers" />
      {workers.data && all.length === 0 && (
        <Alert type="warning" showIcon message="No workers have reported in this domain" description="Start one with `hydra-jobs worker` (or `hydra-jobs up` for a local one)." />
      )}
      <Table<Worker>
        rowKey="id"
        loading={workers.isLoading}
        dataSource={items}
        columns={columns}
        pagination={false}
        scroll={{ x: 1100 }}
        locale={{ emptyText: offline > 0 && !showOffline ? `No worker online (${plural(offline, "offline worker")} hidden)` : "No workers" }}
        data-testid="workers-table"
      />
    </div>
  );
}
