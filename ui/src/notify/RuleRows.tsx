/** An editable list of alert rules (antd Form.List): channel, events, thresholds. */
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Card, Col, Form, InputNumber, Row, Select, Space, Typography } from "antd";
import { useChannels } from "../hooks/useNotify";
import { emptyRule, RULE_EVENTS } from "./rules";

const NUMBER_FIELDS = [
  ["afterFailures", "Failures in a row", "Alert from the Nth (default 1)", 1],
  ["realertSeconds", "Re-alert after (s)", "Quiet after an alert", 1],
  ["notStartedSeconds", "Not started after (s)", "Default 60", 1],
  ["longerThanSeconds", "Longer than (s)", "running too long", 1],
  ["longerThanMedian", "× median duration", "running too long", 1.01],
  ["shorterThanSeconds", "Shorter than (s)", "too fast", 0.001],
] as const;

export function RuleRows({ name, testId }: { name: string; testId: string }) {
  const channels = useChannels();
  const options = (channels.data ?? []).map((c) => ({ value: c.name, label: `${c.name} (${c.type})` }));
  return (
    <Form.List name={name}>
      {(fields, { add, remove }) => (
        <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
          {fields.map((field) => (
            <Card size="small" key={field.key} data-testid="rule-row">
              <Row gutter={12}>
                <Col xs={24} md={8}>
                  <Form.Item label="Channel" name={[field.name, "channel"]} rules={[{ required: true, message: "Pick a channel" }]}>
                    <Select
                      options={options}
                      loading={channels.isLoading}
                      placeholder="A channel"
                      notFoundContent="No channels yet: create one on the Alerts page"
                      data-testid="rule-channel"
                    />
                  </Form.Item>
                </Col>
                <Col xs={24} md={14}>
                  <Form.Item label="On" name={[field.name, "on"]} rules={[{ required: true, message: "Pick at least one event" }]}>
                    <Select
                      mode="multiple"
                      options={RULE_EVENTS.map((e) => ({ value: e.value, label: e.label, title: e.hint }))}
                      data-testid="rule-events"
                    />
                  </Form.Item>
                </Col>
                <Col xs={24} md={2} style={{ display: "flex", alignItems: "center" }}>
                  <Button aria-label="Remove rule" icon={<DeleteOutlined />} onClick={() => remove(field.name)} />
                </Col>
                {NUMBER_FIELDS.map(([key, label, hint, min]) => (
                  <Col xs={12} md={8} key={key}>
                    <Form.Item label={label} name={[field.name, key]} extra={<Typography.Text type="secondary">{hint}</Typography.Text>}>
                      <InputNumber min={min} style={{ width: "100%" }} data-testid={`rule-${key}`} />
                    </Form.Item>
                  </Col>
                ))}
              </Row>
            </Card>
          ))}
          <Button icon={<PlusOutlined />} onClick={() => add(emptyRule(options[0]?.value ?? ""))} data-testid="add-rule">
            Add alert rule
          </Button>
        </Space>
      )}
    </Form.List>
  );
}
