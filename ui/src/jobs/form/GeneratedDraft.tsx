/** What the generator answered with its draft: the explanation, validation, next fires and cost. */
import { Alert, List, Space, Tag, Typography } from "antd";
import { errorLines } from "../../api/errors";
import type { GeneratedJob } from "../../api/types";
import { formatInZone } from "../../common/format";
import { PROVIDER_LABELS } from "../../hooks/useAi";
import { plural } from "../../common/plural";

function zoneOf(spec: Record<string, unknown>, fallback: string): string {
  const schedule = spec.schedule;
  if (typeof schedule === "object" && schedule !== null && "timezone" in schedule && typeof schedule.timezone === "string") return schedule.timezone;
  return fallback;
}

export function GeneratedDraft({ result, timezone }: { result: GeneratedJob; timezone: string }) {
  const errors = errorLines(result.errors ?? []);
  const fires = result.next_fires ?? [];
  const zone = zoneOf(result.spec, timezone);
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="ai-draft">
      <Alert
        type={result.valid ? "success" : "warning"}
        showIcon
        message={
          result.valid
            ? "Draft loaded into the editor. It is not saved: review it, then create the job."
            : `Draft loaded with ${errors.length} problem${errors.length === 1 ? "" : "s"}, shown at their fields. Fix them, then create the job.`
        }
        description={
          errors.length > 0 ? (
            <ul className="error-list" data-testid="ai-draft-errors">
              {errors.map((e, i) => (
                <li key={i}>{e.field ? `${e.field}: ${e.message}` : e.message}</li>
              ))}
            </ul>
          ) : undefined
        }
        data-testid={result.valid ? "ai-draft-valid" : "ai-draft-invalid"}
      />
      {result.explanation && (
        <div className="ai-answer" data-testid="ai-explanation">
          {result.explanation}
        </div>
      )}
      {fires.length > 0 && (
        <List
          size="small"
          header={<Typography.Text strong>Next fires ({zone})</Typography.Text>}
          dataSource={fires}
          renderItem={(iso) => (
            <List.Item className="mono" data-testid="ai-next-fire">
              {formatInZone(iso, zone)}
            </List.Item>
          )}
        />
      )}
      <Space wrap size={4}>
        <Tag>{PROVIDER_LABELS[result.provider]}</Tag>
        <Typography.Text type="secondary" data-testid="ai-usage">
          {result.model} · {plural(result.usage.input_tokens + result.usage.output_tokens, "token")}
          {result.attempts > 1 ? ` · ${plural(result.attempts, "attempt")} (repaired with the validation errors)` : ""}
        </Typography.Text>
      </Space>
    </Space>
  );
}
