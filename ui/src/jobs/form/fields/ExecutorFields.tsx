import { Col, Form, Input, Radio, Row } from "antd";
import type { ExecutorType } from "../../../api/types";
import { EXECUTOR_TYPES } from "../jobForm";
import type { FieldStatus } from "./fieldStatus";
import { ScriptInput } from "./ScriptInput";

const SCRIPT_PLACEHOLDER: Record<ExecutorType, string> = {
  shell: '#!/bin/bash\nset -euo pipefail\necho "hello from $HOSTNAME"',
  python: "print('hello')",
  batch: "@echo off\necho hello",
};

function ScriptHint({ type, fromGit }: { type: ExecutorType; fromGit: boolean }) {
  return (
    <>
      {type === "batch" && "Runs on Windows workers. "}
      {fromGit && "Runs in the checkout (in its path if set), e.g. ./report.sh. "}
      Tab indents; Esc then Tab moves on.
    </>
  );
}

export function ExecutorFields({ status, type, fromGit }: { status: FieldStatus; type: ExecutorType; fromGit: boolean }) {
  const script = status("script", <ScriptHint type={type} fromGit={fromGit} />);
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
      <Form.Item label="Script" name="script" required {...script}>
        <ScriptInput language={type} placeholder={SCRIPT_PLACEHOLDER[type]} invalid={script.validateStatus === "error"} />
      </Form.Item>
    </>
  );
}
