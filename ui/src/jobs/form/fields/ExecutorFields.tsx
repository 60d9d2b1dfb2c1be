import { Col, Form, Input, Radio, Row } from "antd";
import type { ExecutorType } from "../../../api/types";
import { EXECUTOR_TYPES } from "../jobForm";
import type { FieldStatus } from "./fieldStatus";

const SCRIPT_PLACEHOLDER: Record<ExecutorType, string> = {
  shell: '#!/bin/bash\nset -euo pipefail\necho "hello from $HOSTNAME"',
  python: "print('hello')",
  batch: "@echo off\necho hello",
};

export function ExecutorFields({ status, type }: { status: FieldStatus; type: ExecutorType }) {
  return (
    <>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item label="Executor" name="executorType" {...status("executorType")}>
            <Radio.Group optionType="button" options={EXECUTOR_TYPES.map((t) => ({ value: t, label: t }))} />
          </Form.Item>
        </Col>
        {type === "python" && (
          <Col xs={24} md={12}>
            <Form.Item label="Interpreter" name="interpreter" {...status("interpreter", "Empty: the worker's own Python")}>
              <Input placeholder="/usr/bin/python3" className="mono" />
            </Form.Item>
          </Col>
        )}
      </Row>
      <Form.Item label="Script" name="script" required {...status("script", type === "batch" ? "Runs on Windows workers" : undefined)}>
        <Input.TextArea
          className="code-area"
          autoSize={{ minRows: 6, maxRows: 24 }}
          spellCheck={false}
          placeholder={SCRIPT_PLACEHOLDER[type]}
          data-testid="job-script"
        />
      </Form.Item>
    </>
  );
}
