/** "Analyze failure": asks the server's AI for an explanation (POST /runs/{id}/analyze); advisory text only. */
import { BulbOutlined } from "@ant-design/icons";
import { Button, Card, Space, Typography } from "antd";
import { ErrorAlert } from "../common/ErrorAlert";
import { answerText, useAnalyzeRun } from "../hooks/useAi";

export function AnalyzeFailure({ runId }: { runId: string }) {
  const analyze = useAnalyzeRun();
  return (
    <Card
      size="small"
      className="ai-card"
      title={
        <Space>
          <BulbOutlined /> Analyze failure
        </Space>
      }
      extra={<Typography.Text type="secondary">AI, advisory only</Typography.Text>}
      data-testid="analyze-failure"
    >
      <Space direction="vertical" style={{ width: "100%" }}>
        <Typography.Text type="secondary">Explains the likely cause from the redacted log and the job definition. It never acts by itself.</Typography.Text>
        <Button icon={<BulbOutlined />} loading={analyze.isPending} onClick={() => analyze.mutate({ runId })} data-testid="analyze-run">
          Analyze this run
        </Button>
        <ErrorAlert error={analyze.error} title="Could not analyze the run" />
        {analyze.data !== undefined && (
          <pre className="ai-answer" data-testid="analysis">
            {answerText(analyze.data)}
          </pre>
        )}
      </Space>
    </Card>
  );
}
