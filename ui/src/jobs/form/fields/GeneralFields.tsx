import { Col, Form, Input, Row, Switch } from "antd";
import type { FieldStatus } from "./fieldStatus";

export function GeneralFields({ status }: { status: FieldStatus }) {
  return (
    <>
      <Row gutter={16}>
        <Col xs={24} md={16}>
          <Form.Item label="Name" name="name" required {...status("name", "Unique in the domain; letters, digits, space and _ . : @ / -")}>
            <Input placeholder="nightly-report" data-testid="job-name" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item label="Enabled" name="enabled" valuePropName="checked" {...status("enabled")}>
            <Switch data-testid="job-enabled" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label="Description" name="description" {...status("description")}>
        <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} placeholder="What it does, who owns it" />
      </Form.Item>
    </>
  );
}
