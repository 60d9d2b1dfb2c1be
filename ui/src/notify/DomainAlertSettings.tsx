/** The domain's alert rules (for every job that does not opt out) and maintenance windows. */
import { DeleteOutlined, PlusOutlined, SaveOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, DatePicker, Form, Input, Space, Tag } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect } from "react";
import { errorText } from "../api/errors";
import type { NotifySettingsView } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { useNotifyRules, useSetNotifyRules } from "../hooks/useNotify";
import { RuleRows } from "./RuleRows";
import { rowsToRules, rulesToRows, type RuleRow } from "./rules";

interface WindowRow {
  range?: [Dayjs, Dayjs];
  reason?: string;
}

interface Values {
  rules: RuleRow[];
  windows: WindowRow[];
}

function toValues(view: NotifySettingsView): Values {
  return {
    rules: rulesToRows(view.rules),
    windows: (view.maintenance ?? []).map((w) => ({ range: [dayjs(w.start), dayjs(w.end)], reason: w.reason ?? undefined })),
  };
}

export function DomainAlertSettings() {
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const current = useNotifyRules();
  const save = useSetNotifyRules();

  useEffect(() => {
    if (current.data) form.setFieldsValue(toValues(current.data));
  }, [current.data, form]);

  const submit = (values: Values) => {
    const maintenance = (values.windows ?? [])
      .flatMap((w) => (w.range ? [{ start: w.range[0].toISOString(), end: w.range[1].toISOString(), reason: w.reason?.trim() || null }] : []));
    save.mutate(
      { rules: rowsToRules(values.rules ?? [], current.data?.rules), maintenance },
      { onSuccess: () => void message.success("Domain alert settings saved") },
    );
  };

  return (
    <Card
      size="small"
      title={
        <Space>
          Domain alert rules and maintenance
          {current.data?.muted_now && <Tag color="orange" data-testid="muted-now">Muted now: maintenance window</Tag>}
        </Space>
      }
      extra={
        <Button type="primary" icon={<SaveOutlined />} loading={save.isPending} onClick={() => form.submit()} data-testid="save-domain-rules">
          Save
        </Button>
      }
      data-testid="domain-alerts"
    >
      <ErrorAlert error={current.error} title="Could not load the domain's rules" />
      {save.error ? <Alert type="error" showIcon message="Not saved" description={errorText(save.error)} style={{ marginBottom: 12 }} /> : null}
      <Form<Values> form={form} layout="vertical" onFinish={submit} initialValues={{ rules: [], windows: [] }}>
        <p>These rules apply to every job of the domain, unless a job turns off “domain rules” in its editor.</p>
        <RuleRows name="rules" testId="domain-rules" />
        <h4 style={{ marginTop: 16 }}>Maintenance windows</h4>
        <p>Alerts during a window are recorded as muted, not sent.</p>
        <Form.List name="windows">
          {(fields, { add, remove }) => (
            <Space direction="vertical" style={{ width: "100%" }}>
              {fields.map((field) => (
                <Space key={field.key} wrap align="start">
                  <Form.Item name={[field.name, "range"]} rules={[{ required: true, message: "From and to" }]}>
                    <DatePicker.RangePicker showTime />
                  </Form.Item>
                  <Form.Item name={[field.name, "reason"]}>
                    <Input placeholder="Reason (optional)" style={{ width: 240 }} />
                  </Form.Item>
                  <Button aria-label="Remove window" icon={<DeleteOutlined />} onClick={() => remove(field.name)} />
                </Space>
              ))}
              <Button icon={<PlusOutlined />} onClick={() => add({ range: [dayjs(), dayjs().add(1, "hour")] })}>
                Add maintenance window
              </Button>
            </Space>
          )}
        </Form.List>
      </Form>
    </Card>
  );
}
