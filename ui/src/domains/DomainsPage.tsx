/** Domains and tokens (admin): create domains, create tokens (shown once), revoke. 501 until the API ships. */
import { KeyOutlined, PlusOutlined } from "@ant-design/icons";
import { App, Alert, Button, Card, Col, Form, Input, Modal, Popconfirm, Row, Select, Space, Table, Typography } from "antd";
import { useState } from "react";
import { errorText } from "../api/errors";
import { DOMAIN_RE } from "../auth/session";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { useCreateDomain, useCreateToken, useDomains, useRevokeToken } from "../hooks/useDomains";
import type { CreatedToken, DomainRow, TokenRow } from "./domainData";

function CreateDomainForm() {
  const { message } = App.useApp();
  const create = useCreateDomain();
  const [form] = Form.useForm<{ name: string; description?: string }>();
  return (
    <Card size="small" title="New domain">
      <Form
        form={form}
        layout="vertical"
        onFinish={(v) => create.mutate(v, { onSuccess: () => { form.resetFields(); void message.success(`Created domain ${v.name}`); } })}
      >
        <Form.Item name="name" label="Name" rules={[{ required: true, pattern: DOMAIN_RE, message: "lowercase letters, digits, _ and -" }]}>
          <Input placeholder="team-data" className="mono" data-testid="domain-name" />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input placeholder="Who owns it" />
        </Form.Item>
        <Button type="primary" htmlType="submit" icon={<PlusOutlined />} loading={create.isPending} data-testid="create-domain">
          Create domain
        </Button>
      </Form>
      {create.error && (
        <div style={{ marginTop: 12 }}>
          <ErrorAlert error={create.error} title="Could not create the domain" />
        </div>
      )}
    </Card>
  );
}

function TokenShownOnce({ token, onClose }: { token: CreatedToken | null; onClose: () => void }) {
  return (
    <Modal open={token !== null} title="New token: copy it now" onOk={onClose} onCancel={onClose} cancelButtonProps={{ style: { display: "none" } }} okText="I copied it">
      <Alert type="warning" showIcon message="This is the only time the token is shown. Only its hash is stored." style={{ marginBottom: 12 }} />
      <Typography.Paragraph copyable={{ text: token?.token ?? "" }} className="mono token-once" data-testid="new-token">
        {token?.token}
      </Typography.Paragraph>
      {token?.id && <Typography.Text type="secondary">Token id: {token.id}</Typography.Text>}
    </Modal>
  );
}

function CreateTokenForm({ domains }: { domains: DomainRow[] }) {
  const create = useCreateToken();
  const [shown, setShown] = useState<CreatedToken | null>(null);
  const [form] = Form.useForm<{ domain: string; name: string }>();
  return (
    <Card size="small" title="New token">
      <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v, { onSuccess: (t) => { setShown(t); form.resetFields(["name"]); } })}>
        <Form.Item name="domain" label="Domain" rules={[{ required: true, pattern: DOMAIN_RE, message: "Pick or type a domain" }]}>
          {domains.length ? <Select options={domains.map((d) => ({ value: d.name, label: d.name }))} placeholder="Domain" /> : <Input placeholder="default" className="mono" />}
        </Form.Item>
        <Form.Item name="name" label="Label" rules={[{ required: true, message: "Say what uses it, e.g. “ci” or “worker-eu-1”" }]}>
          <Input placeholder="ci" data-testid="token-name" />
        </Form.Item>
        <Button type="primary" htmlType="submit" icon={<KeyOutlined />} loading={create.isPending} data-testid="create-token">
          Create token
        </Button>
      </Form>
      {create.error && (
        <div style={{ marginTop: 12 }}>
          <ErrorAlert error={create.error} title="Could not create the token" />
        </div>
      )}
      <TokenShownOnce token={shown} onClose={() => setShown(null)} />
    </Card>
  );
}

function RevokeButton({ domain, token }: { domain: string; token: TokenRow }) {
  const { message } = App.useApp();
  const revoke = useRevokeToken();
  return (
    <Popconfirm
      title={`Revoke ${token.name ?? token.id}?`}
      description="Anything using it gets 401 from now on."
      okText="Revoke"
      okButtonProps={{ danger: true }}
      onConfirm={() =>
        revoke.mutateAsync({ domain, tokenId: token.id }).then(
          () => void message.success("Token revoked"),
          (e: unknown) => void message.error(errorText(e)),
        )
      }
    >
      <Button size="small" danger loading={revoke.isPending}>
        Revoke
      </Button>
    </Popconfirm>
  );
}

function DomainTable({ domains }: { domains: DomainRow[] }) {
  return (
    <Table<DomainRow>
      rowKey="name"
      size="small"
      dataSource={domains}
      pagination={false}
      columns={[
        { title: "Domain", dataIndex: "name", render: (n: string) => <b className="mono">{n}</b> },
        { title: "Description", dataIndex: "description", render: (d: string | null) => d ?? "" },
        {
          title: "Tokens",
          key: "tokens",
          render: (_, d) =>
            d.tokens.length === 0 ? (
              <span className="muted">none listed</span>
            ) : (
              <Space direction="vertical" size={4}>
                {d.tokens.map((t) => (
                  <Space key={t.id}>
                    <span className="mono">{t.name ?? t.id}</span>
                    {t.createdAt && <span className="muted">{formatDateTime(t.createdAt)}</span>}
                    <RevokeButton domain={d.name} token={t} />
                  </Space>
                ))}
              </Space>
            ),
        },
      ]}
    />
  );
}

export function DomainsPage() {
  const domains = useDomains(true);
  return (
    <div data-testid="domains-page">
      <PageTitle title="Domains and tokens" sub="Tenants and their API tokens (admin only)" />
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        <ErrorAlert error={domains.error} title="Could not load domains" />
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={12}>
            <CreateDomainForm />
          </Col>
          <Col xs={24} xl={12}>
            <CreateTokenForm domains={domains.data ?? []} />
          </Col>
        </Row>
        <Card size="small" title="Domains">
          <DomainTable domains={domains.data ?? []} />
        </Card>
      </Space>
    </div>
  );
}
