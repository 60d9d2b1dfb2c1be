/** "Describe the job…": natural language → a draft spec (POST /ai/generate). The result is only a draft. */
import { RobotOutlined } from "@ant-design/icons";
import { App, Button, Card, Input, Select, Space, Typography } from "antd";
import { useState } from "react";
import { ErrorAlert } from "../../common/ErrorAlert";
import { useGenerateJob } from "../../hooks/useAi";
import type { SpecDraft } from "./jobForm";

function asDraft(data: unknown): SpecDraft | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const record = data as Record<string, unknown>;
  // Accept the spec itself or a wrapper {spec: {...}}.
  const inner = record.spec;
  if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) return inner as SpecDraft;
  return record;
}

export function AiGenerator({ onDraft }: { onDraft: (spec: SpecDraft) => void }) {
  const { message } = App.useApp();
  const [prompt, setPrompt] = useState("");
  const [provider, setProvider] = useState<string | undefined>();
  const generate = useGenerateJob();

  const run = () =>
    generate.mutate(
      { prompt, ...(provider ? { provider } : {}) },
      {
        onSuccess: (data) => {
          const draft = asDraft(data);
          if (!draft) {
            void message.error("The answer was not a job spec");
            return;
          }
          onDraft(draft);
          void message.success("Draft loaded into the form: review it before saving");
        },
      },
    );

  return (
    <Card
      size="small"
      className="ai-card"
      title={
        <Space>
          <RobotOutlined /> AI job generator
        </Space>
      }
      extra={<Typography.Text type="secondary">drafts only; you review and save</Typography.Text>}
      data-testid="ai-generator"
    >
      <Input.TextArea
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
        placeholder="Describe the job… e.g. “every weekday at 6:30 Berlin time, back up /srv/data to s3 and keep 7 days”"
        autoSize={{ minRows: 2, maxRows: 6 }}
        data-testid="ai-prompt"
      />
      <Space style={{ marginTop: 8 }}>
        <Select
          allowClear
          placeholder="Provider (server default)"
          style={{ width: 200 }}
          value={provider}
          onChange={setProvider}
          options={[
            { value: "openai", label: "OpenAI-compatible" },
            { value: "gemini", label: "Gemini" },
          ]}
        />
        <Button type="primary" ghost icon={<RobotOutlined />} disabled={!prompt.trim()} loading={generate.isPending} onClick={run} data-testid="ai-generate">
          Generate draft
        </Button>
      </Space>
      {generate.error && (
        <div style={{ marginTop: 8 }}>
          <ErrorAlert error={generate.error} title="Could not generate a job" />
        </div>
      )}
    </Card>
  );
}
