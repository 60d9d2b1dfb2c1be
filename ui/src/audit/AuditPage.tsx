/** The audit log of the current domain: who did what, newest first, with "load more" paging. */
import { ReloadOutlined } from "@ant-design/icons";
import { Button, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import type { AuditEntry } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";
import { useSession } from "../auth/useSession";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { TimeAgo } from "../common/TimeAgo";
import { useAudit } from "../hooks/useAudit";
import { actorLook, detailsText } from "./auditText";

const COLUMNS: TableProps<AuditEntry>["columns"] = [
  {
    title: "Time",
    dataIndex: "at",
    width: 210,
    render: (at: string) => (
      <Space direction="vertical" size={0}>
        <span className="mono">{formatDateTime(at)}</span>
        <span className="muted">
          <TimeAgo iso={at} />
        </span>
      </Space>
    ),
  },
  {
    title: "Actor",
    dataIndex: "actor",
    width: 200,
    render: (actor: string) => {
      const look = actorLook(actor);
      return (
        <Tooltip title={look.hint}>
          <Tag color={look.color} className="mono" data-testid="audit-actor">
            {actor}
          </Tag>
        </Tooltip>
      );
    },
  },
  { title: "Action", dataIndex: "action", render: (a: string) => <span className="mono" data-testid="audit-action">{a}</span> },
  {
    title: "Object",
    key: "object",
    render: (_, e) => (
      <span data-testid="audit-object">
        <span className="muted">{e.object_type}</span>
        {e.object_id && (
          <>
            {" "}
            <Typography.Text className="mono" copyable={{ text: e.object_id }}>
              {e.object_id}
            </Typography.Text>
          </>
        )}
      </span>
    ),
  },
];

export function AuditPage() {
  const session = useSession();
  const audit = useAudit();
  const entries = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div data-testid="audit-page">
      <PageTitle
        title="Audit log"
        sub={
          <>
            Every change made in <b className="mono">{session?.domain ?? DEFAULT_DOMAIN}</b>, newest first
          </>
        }
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void audit.refetch()} loading={audit.isRefetching} data-testid="audit-refresh">
            Refresh
          </Button>
        }
      />
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        <ErrorAlert error={audit.error} title="Could not load the audit log" />
        <Table<AuditEntry>
          rowKey="id"
          size="small"
          loading={audit.isLoading}
          dataSource={entries}
          columns={COLUMNS}
          pagination={false}
          expandable={{
            rowExpandable: (e) => Object.keys(e.details ?? {}).length > 0,
            expandedRowRender: (e) => <pre className="audit-details">{detailsText(e.details)}</pre>,
          }}
          locale={{ emptyText: "Nothing has been changed in this domain yet." }}
          data-testid="audit-table"
        />
        {audit.hasNextPage && (
          <div style={{ textAlign: "center" }}>
            <Button onClick={() => void audit.fetchNextPage()} loading={audit.isFetchingNextPage} data-testid="audit-more">
              Load more
            </Button>
          </div>
        )}
        {!audit.hasNextPage && entries.length > 0 && (
          <div className="muted" style={{ textAlign: "center" }} data-testid="audit-end">
            {entries.length} {entries.length === 1 ? "entry" : "entries"}: the beginning of the log
          </div>
        )}
      </Space>
    </div>
  );
}
