import { Form, Switch } from "antd";
import { RuleRows } from "../../../notify/RuleRows";
import type { FieldStatus } from "./fieldStatus";

export function AlertFields({ status }: { status: FieldStatus }) {
  return (
    <>
      <Form.Item label="Domain rules" name="domainNotify" valuePropName="checked" {...status("domainNotify", "Also alert by the domain's rules (Alerts page)")}>
        <Switch data-testid="domain-notify" />
      </Form.Item>
      <Form.Item {...status("notify")}>
        <RuleRows name="notify" testId="job-rules" />
      </Form.Item>
    </>
  );
}
