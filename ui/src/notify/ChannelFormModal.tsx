/** Create a channel: webhook, Slack or email. Secrets go to the server once and are never shown again. */
import { Alert, Col, Form, Input, InputNumber, Modal, Radio, Row, Select } from "antd";
import { useEffect } from "react";
import { errorText } from "../api/errors";
import type { ChannelCreate } from "../api/types";
import { testId } from "../common/testId";
import { useCreateChannel } from "../hooks/useNotify";

type Kind = "webhook" | "slack" | "email";

interface Values {
  name: string;
  type: Kind;
  url?: string;
  secret?: string;
  host?: string;
  port?: number;
  security?: "starttls" | "tls" | "none";
  username?: string;
  password?: string;
  sender?: string;
  to?: string[];
  caPem?: string;
}

export const CHANNEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function blank(value: string | undefined): string | null {
  return value?.trim() ? value.trim() : null;
}

/** The create body for the form's values: only the fields of the chosen type. */
export function channelBody(v: Values): ChannelCreate {
  const name = v.name.trim();
  if (v.type === "email") {
    return {
      name,
      type: "email",
      host: (v.host ?? "").trim(),
      port: v.port ?? 587,
      security: v.security ?? "starttls",
      username: blank(v.username),
      password: blank(v.username) ? (v.password ?? "") : null,
      sender: (v.sender ?? "").trim(),
      to: (v.to ?? []).map((t) => t.trim()).filter(Boolean),
      ca_pem: blank(v.caPem),
    };
  }
  if (v.type === "slack") return { name, type: "slack", url: (v.url ?? "").trim() };
  return { name, type: "webhook", url: (v.url ?? "").trim(), secret: blank(v.secret) };
}

export function ChannelFormModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [form] = Form.useForm<Values>();
  const create = useCreateChannel();
  const kind = Form.useWatch("type", form) ?? "webhook";

  useEffect(() => {
    if (!open) return;
    create.reset();
    form.resetFields();
  }, [open]); // eslint-disable-line react-hooks/exhaustive-deps

  const submit = (values: Values) => create.mutate(channelBody(values), { onSuccess: onClose });

  return (
    <Modal
      open={open}
      title="New channel"
      okText="Create channel"
      okButtonProps={{ loading: create.isPending, ...testId("channel-form-submit") }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
      width={640}
    >
      {create.error ? <Alert type="error" showIcon message="Not created" description={errorText(create.error)} style={{ marginBottom: 12 }} data-testid="channel-form-error" /> : null}
      <Form<Values> form={form} layout="vertical" onFinish={submit} requiredMark={false} initialValues={{ type: "webhook", port: 587, security: "starttls" }} data-testid="channel-form">
        <Row gutter={12}>
          <Col xs={24} md={12}>
            <Form.Item name="name" label="Name" rules={[{ required: true, pattern: CHANNEL_NAME_RE, message: "Letters, digits, _ . -; at most 64" }]}>
              <Input placeholder="ops" data-testid="channel-name" autoComplete="off" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="type" label="Type">
              <Radio.Group optionType="button" options={[{ value: "webhook", label: "Webhook" }, { value: "slack", label: "Slack" }, { value: "email", label: "Email" }]} data-testid="channel-type" />
            </Form.Item>
          </Col>
        </Row>
        {kind !== "email" ? (
          <>
            <Form.Item
              name="url"
              label={kind === "slack" ? "Slack incoming webhook URL" : "URL"}
              extra={kind === "slack" ? "It is a secret: it is never shown again." : "Receives a JSON POST per notification (Teams, PagerDuty, your own service...)."}
              rules={[{ required: true, message: "Give a URL" }]}
            >
              {kind === "slack" ? <Input.Password data-testid="channel-url" autoComplete="off" /> : <Input placeholder="https://hooks.example.org/hydra" data-testid="channel-url" autoComplete="off" />}
            </Form.Item>
            {kind === "webhook" && (
              <Form.Item name="secret" label="Signing secret (optional)" extra="16+ characters; signs every body (X-Hydra-Signature, HMAC-SHA256). Write-only.">
                <Input.Password data-testid="channel-secret" autoComplete="new-password" />
              </Form.Item>
            )}
          </>
        ) : (
          <Row gutter={12}>
            <Col xs={24} md={12}>
              <Form.Item name="host" label="SMTP server" rules={[{ required: true, message: "Give the server" }]}>
                <Input placeholder="smtp.example.org" />
              </Form.Item>
            </Col>
            <Col xs={12} md={6}>
              <Form.Item name="port" label="Port">
                <InputNumber min={1} max={65535} style={{ width: "100%" }} />
              </Form.Item>
            </Col>
            <Col xs={12} md={6}>
              <Form.Item name="security" label="Security">
                <Select options={[{ value: "starttls", label: "STARTTLS" }, { value: "tls", label: "TLS" }, { value: "none", label: "None" }]} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="username" label="User (optional)">
                <Input autoComplete="off" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="password" label="Password" extra="Write-only.">
                <Input.Password autoComplete="new-password" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="sender" label="From" rules={[{ required: true, message: "Give the sender" }]}>
                <Input placeholder="hydra@example.org" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="to" label="To" rules={[{ required: true, message: "At least one recipient" }]}>
                <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={[",", " "]} placeholder="ops@example.org" />
              </Form.Item>
            </Col>
            <Col span={24}>
              <Form.Item name="caPem" label="Trusted CA (PEM, optional)" extra="For a server with a private CA; certificates are always verified.">
                <Input.TextArea rows={3} className="mono" />
              </Form.Item>
            </Col>
          </Row>
        )}
      </Form>
    </Modal>
  );
}
