import { Col, Form, Input, InputNumber, Row, Select } from "antd";
import { CATCHUPS, OVERLAPS } from "../jobForm";
import type { FieldStatus } from "./fieldStatus";

export function LimitsFields({ status }: { status: FieldStatus }) {
  return (
    <Row gutter={16}>
      <Col xs={12} md={8}>
        <Form.Item label="Timeout (s)" name="timeoutSeconds" {...status("timeoutSeconds", "Empty: no limit")}>
          <InputNumber min={1} style={{ width: "100%" }} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="Attempts" name="maxAttempts" {...status("maxAttempts", "1 = no retry")}>
          <InputNumber min={1} max={100} style={{ width: "100%" }} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="Retry backoff (s)" name="backoffSeconds" {...status("backoffSeconds", "Default 10, doubling")}>
          <InputNumber min={0} style={{ width: "100%" }} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="Max running" name="maxRunning" {...status("maxRunning", "Empty: any")}>
          <InputNumber min={1} style={{ width: "100%" }} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="On overlap" name="overlap" {...status("overlap")}>
          <Select options={OVERLAPS.map((o) => ({ value: o, label: o.replace("_", " ") }))} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="Catch-up" name="catchup" {...status("catchup", "After downtime")}>
          <Select options={CATCHUPS.map((c) => ({ value: c, label: c }))} />
        </Form.Item>
      </Col>
      <Col xs={12} md={8}>
        <Form.Item label="Queue" name="queue" {...status("queue")}>
          <Input className="mono" placeholder="default" />
        </Form.Item>
      </Col>
      <Col xs={24} md={16}>
        <Form.Item label="Tags" name="tags" {...status("tags")}>
          <Select mode="tags" placeholder="linux, nightly…" tokenSeparators={[",", " "]} open={false} suffixIcon={null} />
        </Form.Item>
      </Col>
    </Row>
  );
}
