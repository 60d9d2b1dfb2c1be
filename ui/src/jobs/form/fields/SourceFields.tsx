/**
 * Where the script runs: on its own, or in a fresh checkout of a git repository (`source`: url,
 * ref, path). The server checks these with the worker's own rules as you type; its messages show
 * at each field.
 */
import { Col, Form, Input, Radio, Row } from "antd";
import type { SourceKind } from "../jobForm";
import type { FieldStatus } from "./fieldStatus";

export function SourceFields({ status, kind }: { status: FieldStatus; kind: SourceKind }) {
  return (
    <>
      <Form.Item label="Source" name="sourceKind" {...status("sourceKind")}>
        <Radio.Group
          optionType="button"
          options={[
            { value: "inline", label: "Inline script" },
            { value: "git", label: "Git repository" },
          ]}
          data-testid="source-kind"
        />
      </Form.Item>
      {kind === "git" && (
        <>
          <Form.Item label="Repository URL" name="gitUrl" required {...status("gitUrl", "https://, ssh:// or user@host:path (file:// only where the worker allows it)")}>
            <Input className="mono" placeholder="https://git.example.org/team/reports.git" data-testid="git-url" autoComplete="off" spellCheck={false} />
          </Form.Item>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item label="Ref" name="gitRef" {...status("gitRef", "Branch, tag or commit; empty: the default branch")}>
                <Input className="mono" placeholder="main" data-testid="git-ref" autoComplete="off" spellCheck={false} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item label="Path" name="gitPath" {...status("gitPath", "Working directory inside the checkout")}>
                <Input className="mono" placeholder="jobs/nightly" data-testid="git-path" autoComplete="off" spellCheck={false} />
              </Form.Item>
            </Col>
          </Row>
        </>
      )}
    </>
  );
}
