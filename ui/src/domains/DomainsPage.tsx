/** Domains (admin): the tenants with their job and token counts; create, edit, delete, tokens. */
import { DeleteOutlined, EditOutlined, KeyOutlined, PlusOutlined, SwapOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import { useState } from "react";
import type { Domain } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";
import { switchDomain } from "../auth/switchDomain";
import { useSession } from "../auth/useSession";
import { ErrorAlert } from "../common/ErrorAlert";
import { PageTitle } from "../common/PageTitle";
import { TimeAgo } from "../common/TimeAgo";
import { useDomains } from "../hooks/useDomains";
import { canDelete } from "./deletePlan";
import { DeleteDomainModal } from "./DeleteDomainModal";
import { DomainFormModal } from "./DomainFormModal";
import { TokensDrawer } from "./TokensDrawer";

type FormState = { mode: "closed" } | { mode: "create" } | { mode: "edit"; domain: Domain };

export function DomainsPage() {
  const { message } = App.useApp();
  const client = useQueryClient();
  const session = useSession();
  const current = session?.domain ?? DEFAULT_DOMAIN;
  const domains = useDomains(true);
  const [form, setForm] = useState<FormState>({ mode: "closed" });
  const [deleting, setDeleting] = useState<Domain | null>(null);
  const [tokensOf, setTokensOf] = useState<string | null>(null);

  const columns: TableProps<Domain>["columns"] = [
    {
      title: "Domain",
      dataIndex: "name",
      render: (name: string) => (
        <Space size={6}>
          <b className="mono" data-testid="domain-row-name">
            {name}
          </b>
          {name === current && <Tag color="blue">current</Tag>}
        </Space>
      ),
    },
    {
      title: "Description",
      dataIndex: "description",
      render: (d: string | null | undefined) => (d ? <Typography.Text ellipsis={{ tooltip: d }}>{d}</Typography.Text> : <span className="muted">—</span>),
    },
    { title: "Jobs", dataIndex: "jobs", width: 80, align: "right", render: (n: number) => <span data-testid="domain-jobs">{n}</span> },
    {
      title: <Tooltip title="Tokens not revoked">Tokens</Tooltip>,
      dataIndex: "tokens",
      width: 90,
      align: "right",
      render: (n: number) => <span data-testid="domain-tokens">{n}</span>,
    },
    { title: "Created", dataIndex: "created_at", width: 130, render: (at: string) => <TimeAgo iso={at} /> },
    {
      title: "",
      key: "actions",
      align: "right",
      render: (_, d) => (
        <Space size={4} wrap>
          <Button size="small" icon={<KeyOutlined />} onClick={() => setTokensOf(d.name)} data-testid="open-tokens">
            Tokens
          </Button>
          <Button size="small" icon={<EditOutlined />} onClick={() => setForm({ mode: "edit", domain: d })} data-testid="edit-domain">
            Edit
          </Button>
          <Tooltip title={d.name === current ? "You are acting in it" : "Act in this domain (the switcher in the header)"}>
            <Button
              size="small"
              icon={<SwapOutlined />}
              disabled={d.name === current}
              onClick={() => void switchDomain(client, d.name)}
              data-testid="switch-to-domain"
            >
              Switch
            </Button>
          </Tooltip>
          <Tooltip title={canDelete(d.name) ? "" : "The default domain cannot be deleted"}>
            <Button size="small" danger icon={<DeleteOutlined />} disabled={!canDelete(d.name)} onClick={() => setDeleting(d)} data-testid="delete-domain">
              Delete
            </Button>
          </Tooltip>
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="domains-page">
      <PageTitle
        title="Domains"
        sub="Tenants: each has its own jobs, runs, workers, tokens and audit log (admin only)"
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setForm({ mode: "create" })} data-testid="new-domain">
            New domain
          </Button>
        }
      />
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        <ErrorAlert error={domains.error} title="Could not load the domains" />
        <Table<Domain>
          rowKey="name"
          size="middle"
          loading={domains.isLoading}
          dataSource={domains.data ?? []}
          columns={columns}
          pagination={false}
          data-testid="domains-table"
        />
      </Space>
      <DomainFormModal
        open={form.mode !== "closed"}
        editing={form.mode === "edit" ? form.domain : null}
        onClose={() => setForm({ mode: "closed" })}
        onCreated={(d) => void message.success(`Created domain ${d.name}`)}
      />
      <DeleteDomainModal
        domain={deleting ? (domains.data?.find((d) => d.name === deleting.name) ?? deleting) : null}
        onClose={() => setDeleting(null)}
        onDeleted={(name) => {
          void message.success(`Deleted domain ${name}`);
          // Acting in a domain that no longer exists would show nothing and create nothing.
          if (name === current) void switchDomain(client, DEFAULT_DOMAIN);
        }}
      />
      <TokensDrawer domain={tokensOf} onClose={() => setTokensOf(null)} />
    </div>
  );
}
