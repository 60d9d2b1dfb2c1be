/** Alerts: the domain's channels (create, send a test, delivery log, delete) and its rules. */
import { DeleteOutlined, PlusOutlined, SendOutlined } from "@ant-design/icons";
import { App, Button, Card, Popconfirm, Space, Table, Tag } from "antd";
import type { TableProps } from "antd";
import { useState } from "react";
import { errorText } from "../api/errors";
import type { ChannelInfo } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { useChannels, useDeleteChannel, useDeliveries, useTestChannel } from "../hooks/useNotify";
import { ChannelFormModal } from "./ChannelFormModal";
import { DeliveryTable } from "./DeliveryTable";
import { DomainAlertSettings } from "./DomainAlertSettings";

function DeliveryLog({ channel }: { channel: string }) {
  const log = useDeliveries({ channel });
  return (
    <Card size="small" title={`Delivery log: ${channel}`} data-testid="channel-log">
      <ErrorAlert error={log.error} title="Could not load the log" />
      <DeliveryTable items={log.data} loading={log.isLoading} />
    </Card>
  );
}

export function ChannelsPage() {
  const { message } = App.useApp();
  const channels = useChannels();
  const test = useTestChannel();
  const remove = useDeleteChannel();
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const sendTest = (name: string) => {
    setSelected(name);
    test.mutate(name, {
      onSuccess: () => void message.info(`Test notification queued for ${name}`),
      onError: (e) => void message.error(errorText(e)),
    });
  };

  const columns: TableProps<ChannelInfo>["columns"] = [
    { title: "Name", dataIndex: "name", render: (v: string) => <strong>{v}</strong> },
    { title: "Type", dataIndex: "type", render: (v: string) => <Tag>{v}</Tag> },
    { title: "Target", dataIndex: "target", render: (v: string) => <span className="mono">{v}</span> },
    { title: "Secret", dataIndex: "has_secret", render: (v: boolean) => (v ? "set (hidden)" : "—") },
    { title: "Created", dataIndex: "created_at", render: (v: string) => formatDateTime(v) },
    {
      title: "",
      key: "actions",
      render: (_, c) => (
        <Space>
          <Button size="small" icon={<SendOutlined />} onClick={() => sendTest(c.name)} data-testid="test-channel">
            Send test
          </Button>
          <Button size="small" onClick={() => setSelected(c.name)} data-testid="show-log">
            Delivery log
          </Button>
          <Popconfirm title={`Delete ${c.name}?`} description="Its pending notifications fail; its log stays." onConfirm={() => remove.mutate(c.name)}>
            <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${c.name}`} />
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: "100%" }}>
      <PageTitle
        title="Alerts"
        sub="Where alerts go, what the domain alerts on, and when it is quiet."
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="new-channel">
            New channel
          </Button>
        }
      />
      <ErrorAlert error={channels.error} title="Could not load the channels" />
      <Card size="small" title="Channels">
        <Table<ChannelInfo>
          size="small"
          rowKey="name"
          columns={columns}
          dataSource={channels.data ?? []}
          loading={channels.isLoading}
          pagination={false}
          locale={{ emptyText: "No channels yet: create one to receive alerts" }}
          data-testid="channels-table"
          scroll={{ x: true }}
        />
      </Card>
      {selected && <DeliveryLog channel={selected} />}
      <DomainAlertSettings />
      <ChannelFormModal open={creating} onClose={() => setCreating(false)} />
    </Space>
  );
}
