/**
 * A run's failure analysis. Everything the analyser wrote is shown as plain text (it may quote job
 * output or come from a model): URLs and commands stay text, nothing is run or applied from here.
 */
import type { ReactNode } from "react";
import { Descriptions, Progress, Space, Tag, Typography } from "antd";
import { Link } from "react-router";
import type { Analysis } from "../api/types";
import { formatDateTime, formatDuration, shortId } from "../common/format";
import { TimeAgo } from "../common/TimeAgo";
import { PROVIDER_LABELS } from "../hooks/useAi";
import { categoryLabel } from "./categories";
import { SuggestedChange } from "./SuggestedChange";
import { plural } from "../common/plural";

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div>
      <Typography.Text strong>{title}</Typography.Text>
      <div>{children}</div>
    </div>
  );
}

function Evidence({ analysis, onEvidence }: { analysis: Analysis; onEvidence: (line: number) => void }) {
  const evidence = analysis.evidence ?? [];
  if (evidence.length === 0) return null;
  return (
    <Section title="Evidence in the log">
      <ul className="evidence-list" data-testid="evidence">
        {evidence.map((e) => (
          <li key={e.line}>
            <Typography.Link onClick={() => onEvidence(e.line)} className="mono" data-testid="evidence-link" data-line={e.line}>
              line {e.line}
            </Typography.Link>
            <span className="mono evidence-text">{e.text}</span>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Recurrence({ analysis }: { analysis: Analysis }) {
  if (analysis.same_failures <= 0) return <Typography.Text type="secondary">No earlier run of this job failed this way.</Typography.Text>;
  const times = analysis.same_failures === 1 ? "once" : plural(analysis.same_failures, "time");
  return (
    <Space direction="vertical" size={2} data-testid="same-failures">
      <Typography.Text>
        Failed the same way {times} before
        {analysis.same_failures_since ? `, since ${formatDateTime(analysis.same_failures_since)}` : ""}.
      </Typography.Text>
      <Space wrap size={4}>
        {(analysis.similar_runs ?? []).map((r) => (
          <Link key={r.id} to={`/runs/${r.id}`} className="mono">
            {shortId(r.id)}
          </Link>
        ))}
      </Space>
    </Space>
  );
}

function SinceLastSuccess({ changes }: { changes: Record<string, unknown> }) {
  const entries = Object.entries(changes).filter(([k]) => !["run_id", "created_at", "duration_seconds"].includes(k));
  const runId = typeof changes.run_id === "string" ? changes.run_id : null;
  return (
    <Section title="Since the last successful run">
      {runId && (
        <Typography.Text type="secondary">
          compared with run <Link to={`/runs/${runId}`}>{shortId(runId)}</Link>
          {typeof changes.created_at === "string" ? ` (${formatDateTime(changes.created_at)})` : ""}
        </Typography.Text>
      )}
      {entries.length === 0 ? (
        <div className="muted">Nothing in the spec, params, env names, commit, worker or interpreter changed.</div>
      ) : (
        <Descriptions size="small" column={1} bordered data-testid="since-last-success">
          {entries.map(([k, v]) => (
            <Descriptions.Item key={k} label={k.replace(/_/g, " ")}>
              <span className="mono evidence-text">{typeof v === "string" ? v : JSON.stringify(v)}</span>
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
    </Section>
  );
}

export function AnalysisCard({ analysis, onEvidence }: { analysis: Analysis; onEvidence: (line: number) => void }) {
  const confidence = Math.round(analysis.confidence * 100);
  const durations =
    analysis.duration_seconds != null && analysis.usual_duration_seconds != null
      ? `ran ${formatDuration(analysis.duration_seconds * 1000)}, usually ${formatDuration(analysis.usual_duration_seconds * 1000)}`
      : null;
  return (
    <Space direction="vertical" size={12} style={{ width: "100%" }} data-testid="analysis">
      <Space wrap>
        <Tag color="volcano" data-testid="analysis-category" data-category={analysis.category}>
          {categoryLabel(analysis.category)}
        </Tag>
        <Space size={4}>
          <Typography.Text type="secondary">confidence</Typography.Text>
          <Progress percent={confidence} size="small" steps={5} data-testid="analysis-confidence" />
        </Space>
        <Typography.Text type="secondary" data-testid="analysis-provider">
          {PROVIDER_LABELS[analysis.provider]}
          {analysis.model ? ` (${analysis.model})` : ""}, <TimeAgo iso={analysis.created_at} />
          {analysis.cached ? " · stored answer" : ""}
        </Typography.Text>
        {durations && <Typography.Text type="secondary">{durations}</Typography.Text>}
      </Space>
      <Typography.Paragraph strong style={{ marginBottom: 0 }} className="ai-answer" data-testid="analysis-summary">
        {analysis.summary}
      </Typography.Paragraph>
      <Section title="Probable cause">
        <div className="ai-answer">{analysis.probable_cause}</div>
      </Section>
      <Section title="Suggested fix">
        <div className="ai-answer" data-testid="analysis-fix">
          {analysis.suggested_fix}
        </div>
      </Section>
      <Evidence analysis={analysis} onEvidence={onEvidence} />
      <SuggestedChange analysis={analysis} />
      <Recurrence analysis={analysis} />
      {analysis.since_last_success && <SinceLastSuccess changes={analysis.since_last_success} />}
    </Space>
  );
}
