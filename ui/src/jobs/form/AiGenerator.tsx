/**
 * "Describe the job…": one sentence to a draft spec (POST /ai/generate) with the user's timezone.
 * Only configured providers are offered; the draft fills the editor and is never saved from here.
 */
import { RobotOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Input, Select, Skeleton, Space, Typography } from "antd";
import { useState } from "react";
import type { ProviderInfo } from "../../api/types";
import { ErrorAlert } from "../../common/ErrorAlert";
import { browserTimezone, PROVIDER_LABELS, useAiProviders, useGenerateJob } from "../../hooks/useAi";
import { GeneratedDraft } from "./GeneratedDraft";
import type { SpecDraft } from "./jobForm";

type ProviderName = ProviderInfo["name"];

function NotConfigured() {
  return (
    <Alert
      type="info"
      showIcon
      message="No AI provider is configured on this server"
      description={
        <>
          Start <span className="mono">hydra-jobs</span> with <span className="mono">GEMINI_API_KEY</span> or{" "}
          <span className="mono">OPENAI_API_KEY</span> set (with <span className="mono">OPENAI_BASE_URL</span> for a local
          OpenAI-compatible model) to describe jobs in words. Failure analysis works without a key.
        </>
      }
      data-testid="ai-not-configured"
    />
  );
}

export function AiGenerator({ onDraft }: { onDraft: (spec: SpecDraft) => void }) {
  const providers = useAiProviders();
  const [prompt, setPrompt] = useState("");
  const [picked, setPicked] = useState<ProviderName | undefined>();
  const generate = useGenerateJob();
  const timezone = browserTimezone();

  const configured = providers.data?.providers ?? [];
  const provider = picked ?? configured.find((p) => p.default)?.name ?? configured[0]?.name;

  const run = () =>
    generate.mutate(
      { prompt: prompt.trim(), ...(provider ? { provider } : {}), ...(timezone ? { timezone } : {}) },
      { onSuccess: (answer) => onDraft(answer.spec) },
    );

  let body;
  if (providers.isLoading) body = <Skeleton active paragraph={{ rows: 1 }} />;
  else if (providers.error) body = <ErrorAlert error={providers.error} title="Could not ask which AI providers are configured" />;
  else if (providers.data && !providers.data.enabled)
    body = <Alert type="info" showIcon message="AI is turned off for this domain by the administrator" data-testid="ai-disabled" />;
  else if (configured.length === 0) body = <NotConfigured />;
  else
    body = (
      <>
        <Input.TextArea
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="Describe the job… e.g. “every weekday at 6:30 Berlin time, back up /srv/data to s3 and keep 7 days”"
          autoSize={{ minRows: 2, maxRows: 6 }}
          data-testid="ai-prompt"
        />
        <Space style={{ marginTop: 8 }} wrap>
          <Select<ProviderName>
            style={{ minWidth: 220 }}
            value={provider}
            onChange={setPicked}
            options={configured.map((p) => ({ value: p.name, label: `${PROVIDER_LABELS[p.name]} (${p.model})` }))}
            aria-label="AI provider"
            data-testid="ai-provider"
          />
          <Button type="primary" ghost icon={<RobotOutlined />} disabled={!prompt.trim()} loading={generate.isPending} onClick={run} data-testid="ai-generate">
            Generate draft
          </Button>
          {timezone && <Typography.Text type="secondary">times in {timezone} unless you say otherwise</Typography.Text>}
        </Space>
        {generate.error && (
          <div style={{ marginTop: 8 }}>
            <ErrorAlert error={generate.error} title="Could not generate a job" />
          </div>
        )}
        {generate.data && (
          <div style={{ marginTop: 8 }}>
            <GeneratedDraft result={generate.data} timezone={timezone ?? "UTC"} />
          </div>
        )}
      </>
    );

  return (
    <Card
      size="small"
      className="ai-card"
      title={
        <Space>
          <RobotOutlined /> Magic job generator
        </Space>
      }
      extra={<Typography.Text type="secondary">drafts only; you review and save</Typography.Text>}
      data-testid="ai-generator"
    >
      {body}
    </Card>
  );
}
