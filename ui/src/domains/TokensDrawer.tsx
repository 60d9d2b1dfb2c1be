/**
 * A domain's tokens (the admin's, or an owner token's own): list with revoked ones, create with a
 * role (secret shown once), change a role, revoke. `TokensPanel` is the content, for the admin's
 * drawer on the domains page and the owner's own tokens page.
 */
import { KeyOutlined } from "@ant-design/icons";
import { Alert, App, Button, Drawer, Form, Input, Popconfirm, Radio, Select, Space, Table, Tag, Tooltip } from "antd";
import type { TableProps } from "antd";
import { useState } from "react";
import { errorText } from "../api/errors";
import type { TokenInfo } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { formErrors, showFieldErrors } from "../common/formErrors";
import { TimeAgo } from "../common/TimeAgo";
import { ROLE_HELP, ROLES, type Role } from "../auth/permissions";
import { useSession } from "../auth/useSession";
import { useCreateToken, useRevokeToken, useSetTokenRole, useTokens } from "../hooks/useTokens";
import { TokenCreatedModal, type ShownToken } from "./TokenCreatedModal";

export const TOKEN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,99}$/;
const TOKEN_NAME_HELP = "Letters, digits, space and _ . : @ / -; starts with a letter or digit; at most 100 characters.";
const FIELDS = ["name", "role"] as const;
const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: <Tooltip title={ROLE_HELP[r]} placement="left">{r}</Tooltip> }));

function CreateTokenForm({ domain }: { domain: string }) {
  const create = useCreateToken();
  const [form] = Form.useForm<{ name: string; role: Role }>();
  const [shown, setShown] = useState<ShownToken | null>(null);
  const errors = formErrors(create.error, FIELDS, "name");

  const submit = ({ name, role }: { name: string; role: Role }) =>
    create.mutate(
      { domain, name: name.trim(), role },
      {
        onSuccess: (created) => {
          setShown({ domain: created.domain, name: created.name, secret: created.token });
          // The mutation keeps its last answer: drop it so the secret lives only in `shown`.
          create.reset();
          form.resetFields();
        },
        onError: (error) => showFieldErrors(form, FIELDS, formErrors(error, FIELDS, "name")),
      },
    );

  return (
    <>
      <Form form={form} layout="inline" onFinish={submit} requiredMark={false} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item
          name="name"
          style={{ flex: 1, minWidth: 240 }}
          rules={[
            { required: true, whitespace: true, message: "Say who or what holds it, e.g. “ci” or “worker-eu-1”" },
            { pattern: TOKEN_NAME_RE, message: TOKEN_NAME_HELP },
          ]}
        >
          <Input placeholder="Token name, e.g. ci or worker-eu-1" autoComplete="off" data-testid="token-name" />
        </Form.Item>
        <Form.Item name="role" rules={[{ required: true, message: "Choose what it may do" }]}>
          <Radio.Group
            optionType="button"
            options={ROLES.map((r) => ({ value: r, label: r, title: ROLE_HELP[r] }))}
            data-testid="token-role"
          />
        </Form.Item>
        <Button type="primary" htmlType="submit" icon={<KeyOutlined />} loading={create.isPending} data-testid="create-token">
          Create token
        </Button>
      </Form>
      {errors.general.length > 0 && <Alert type="error" showIcon message={errors.general.join("; ")} style={{ marginBottom: 16 }} />}
      <TokenCreatedModal token={shown} onClose={() => setShown(null)} />
    </>
  );
}

function RevokeButton({ token }: { token: TokenInfo }) {
  const { message } = App.useApp();
  const revoke = useRevokeToken();
  if (token.revoked_at) return null;
  return (
    <Popconfirm
      title={`Revoke ${token.name}?`}
      description="Calls with it get 401 at once and workers using it stop. This cannot be undone."
      okText="Revoke"
      okButtonProps={{ danger: true }}
      onConfirm={() =>
        revoke.mutateAsync({ domain: token.domain, tokenId: token.id }).then(
          () => void message.success(`Token ${token.name} revoked`),
          (e: unknown) => void message.error(errorText(e)),
        )
      }
    >
      <Button size="small" danger loading={revoke.isPending} data-testid="revoke-token">
        Revoke
      </Button>
    </Popconfirm>
  );
}

function RoleCell({ token }: { token: TokenInfo }) {
  const { message } = App.useApp();
  const session = useSession();
  const setRole = useSetTokenRole();
  const own = session?.actor === `token:${token.name}` && !session.isAdmin;
  if (token.revoked_at || own) {
    return (
      <Tooltip title={own ? "Your own token: another owner (or the admin) can change its role" : ROLE_HELP[token.role]}>
        <Tag data-testid="token-role-tag">{token.role}</Tag>
      </Tooltip>
    );
  }
  return (
    <Select<Role>
      size="small"
      value={token.role}
      options={ROLE_OPTIONS}
      style={{ width: 120 }}
      loading={setRole.isPending}
      aria-label={`Role of ${token.name}`}
      data-testid="token-role-select"
      onChange={(role) =>
        setRole.mutate(
          { domain: token.domain, tokenId: token.id, role },
          {
            onSuccess: () => void message.success(`${token.name} is now ${role}`),
            onError: (e) => void message.error(errorText(e)),
          },
        )
      }
    />
  );
}

const COLUMNS: TableProps<TokenInfo>["columns"] = [
  {
    title: "Name",
    dataIndex: "name",
    render: (name: string, t) => (
      <Tooltip title={`id ${t.id}`}>
        <b data-testid="token-row-name">{name}</b>
      </Tooltip>
    ),
  },
  { title: "Role", key: "role", render: (_, t) => <RoleCell token={t} /> },
  {
    title: "Status",
    key: "status",
    render: (_, t) =>
      t.revoked_at ? (
        <Tooltip title={`Revoked ${formatDateTime(t.revoked_at)}`}>
          <Tag color="red" data-testid="token-status">
            revoked
          </Tag>
        </Tooltip>
      ) : (
        <Tag color="green" data-testid="token-status">
          active
        </Tag>
      ),
  },
  { title: "Created", dataIndex: "created_at", render: (at: string) => <TimeAgo iso={at} /> },
  { title: "Created by", dataIndex: "created_by", render: (by: string) => <span className="mono">{by}</span> },
  {
    title: "Last used",
    dataIndex: "last_used_at",
    render: (at: string | null | undefined) => (at ? <TimeAgo iso={at} /> : <span className="muted">never</span>),
  },
  { title: "", key: "actions", align: "right", render: (_, t) => <RevokeButton token={t} /> },
];

export function TokensPanel({ domain }: { domain: string }) {
  const tokens = useTokens(domain);
  return (
    <Space direction="vertical" size={8} style={{ width: "100%" }} data-testid="tokens-drawer">
      <CreateTokenForm domain={domain} />
      <ErrorAlert error={tokens.error} title="Could not load the tokens" />
      <Table<TokenInfo>
        rowKey="id"
        size="small"
        loading={tokens.isLoading}
        dataSource={tokens.data ?? []}
        columns={COLUMNS}
        pagination={false}
        locale={{ emptyText: "No tokens yet: create one for each thing that calls the API or runs a worker." }}
        rowClassName={(t) => (t.revoked_at ? "row-revoked" : "")}
        data-testid="tokens-table"
      />
    </Space>
  );
}

export function TokensDrawer({ domain, onClose }: { domain: string | null; onClose: () => void }) {
  return (
    <Drawer open={domain !== null} onClose={onClose} width={960} title={domain ? `Tokens of ${domain}` : "Tokens"} destroyOnHidden>
      {domain && <TokensPanel domain={domain} />}
    </Drawer>
  );
}
