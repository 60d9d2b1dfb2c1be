/** Deliveries: a channel's log or the alert history of a job or a run. */
import { Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import { Link } from "react-router";
import type { Delivery, DeliveryStatus } from "../api/types";
import { formatDateTime, shortId } from "../common/format";
import { eventLabel } from "./rules";

const STATUS_COLOR: Record<DeliveryStatus, string> = {
  pending: "gold",
  sent: "green",
  failed: "red",
  muted: "default",
  suppressed: "default",
};

export function DeliveryStatusTag({ status }: { status: DeliveryStatus }) {
  return <Tag color={STATUS_COLOR[status]}>{status}</Tag>;
}

export function DeliveryTable({ items, loading, show = "channel" }: { items: Delivery[] | undefined; loading: boolean; show?: "channel" | "job" }) {
  const columns: TableProps<Delivery>["columns"] = [
    { title: "When", dataIndex: "created_at", render: (v: string) => formatDateTime(v), width: 170 },
    { title: "Event", dataIndex: "event", render: (v: string) => eventLabel(v) },
    show === "channel"
      ? {
          title: "Job / run",
          key: "job",
          render: (_, d) =>
            d.run_id ? (
              <Link to={`/runs/${d.run_id}`}>
                {d.job_name ?? "run"} · {shortId(d.run_id)}
              </Link>
            ) : (
              <Typography.Text type="secondary">—</Typography.Text>
            ),
        }
      : { title: "Channel", dataIndex: "channel", render: (v: string, d) => `${v} (${d.channel_type})` },
    { title: "Status", dataIndex: "status", render: (v: DeliveryStatus) => <DeliveryStatusTag status={v} /> },
    { title: "Code", dataIndex: "response_code", render: (v: number | null) => v ?? "—" },
    { title: "Attempts", dataIndex: "attempts" },
    {
      title: "Detail",
      key: "detail",
      render: (_, d) => {
        const text = d.error ?? d.note ?? "";
        return text ? (
          <Tooltip title={text}>
            <Typography.Text type={d.error ? "danger" : "secondary"} ellipsis style={{ maxWidth: 320 }}>
              {text}
            </Typography.Text>
          </Tooltip>
        ) : null;
      },
    },
  ];
  return (
    <Table<Delivery>
      size="small"
      rowKey="id"
      columns={columns}
      dataSource={items ?? []}
      loading={loading}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      locale={{ emptyText: "No notifications yet" }}
      data-testid="delivery-log"
      scroll={{ x: true }}
    />
  );
}
