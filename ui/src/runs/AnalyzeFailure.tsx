/**
 * "Analyze failure" for a failed, timed out or lost run: the stored answer when there is one, else
 * a button. The built-in rules always answer; a configured model may be chosen instead.
 */
import { BulbOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, Card, Select, Skeleton, Space, Typography } from "antd";
import { useState } from "react";
import { AnalysisCard } from "../ai/AnalysisCard";
import type { AnalysisProvider, ProvidersAnswer } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { PROVIDER_LABELS, useAiProviders, useAnalyzeRun, useRunAnalysis } from "../hooks/useAi";

/** What may be asked: the rules always, models only when configured and enabled for the domain. */
export function analysisChoices(answer: ProvidersAnswer | undefined): { options: { value: AnalysisProvider; label: string }[]; preferred: AnalysisProvider } {
  const models = answer?.enabled ? answer.providers : [];
  const options = [
    ...models.map((p) => ({ value: p.name, label: `${PROVIDER_LABELS[p.name]} (${p.model})` })),
    { value: "heuristic" as const, label: PROVIDER_LABELS.heuristic },
  ];
  const preferred = models.find((p) => p.default)?.name ?? models[0]?.name ?? "heuristic";
  return { options, preferred };
}

export function AnalyzeFailure({ runId, onEvidence }: { runId: string; onEvidence: (line: number) => void }) {
  const providers = useAiProviders();
  const stored = useRunAnalysis(runId, true);
  const analyze = useAnalyzeRun(runId);
  const [picked, setPicked] = useState<AnalysisProvider | undefined>();
  const { options, preferred } = analysisChoices(providers.data);
  const provider = picked ?? preferred;
  const analysis = stored.data ?? null;

  const ask = (force: boolean) => analyze.mutate({ provider, force });

  return (
    <Card
      size="small"
      className="ai-card"
      title={
        <Space>
          <BulbOutlined /> Analyze failure
        </Space>
      }
      extra={<Typography.Text type="secondary">advisory only: nothing is changed or run from here</Typography.Text>}
      data-testid="analyze-failure"
    >
      <Space direction="vertical" style={{ width: "100%" }}>
        <Space wrap>
          <Select<AnalysisProvider>
            value={provider}
            onChange={setPicked}
            options={options}
            style={{ minWidth: 240 }}
            loading={providers.isLoading}
            aria-label="Who analyses"
            data-testid="analyze-provider"
          />
          <Button
            type={analysis ? "default" : "primary"}
            icon={analysis ? <ReloadOutlined /> : <BulbOutlined />}
            loading={analyze.isPending}
            disabled={stored.isLoading}
            onClick={() => ask(analysis !== null)}
            data-testid="analyze-run"
          >
            {analysis ? "Analyze again" : "Analyze this run"}
          </Button>
          {!analysis && (
            <Typography.Text type="secondary">
              {provider === "heuristic" ? "Built-in rules read the log and how the run ended; nothing leaves the server." : "Sends the redacted log and job definition to the model."}
            </Typography.Text>
          )}
        </Space>
        <ErrorAlert error={analyze.error ?? stored.error ?? providers.error} title="Could not analyze the run" />
        {stored.isLoading ? <Skeleton active paragraph={{ rows: 2 }} /> : analysis && <AnalysisCard analysis={analysis} onEvidence={onEvidence} />}
      </Space>
    </Card>
  );
}
