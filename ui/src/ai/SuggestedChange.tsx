/** A suggested change of the job spec: whether it validates, its diff, and "open in the editor". */
import { EditOutlined } from "@ant-design/icons";
import { Alert, Button, Space, Typography } from "antd";
import { useNavigate } from "react-router";
import { errorLines } from "../api/errors";
import type { Analysis } from "../api/types";
import { useJob } from "../hooks/useJobs";
import { jobToSpec } from "../jobs/form/jobForm";
import { SpecDiff } from "./SpecDiff";
import { applySuggestion, type Suggestion } from "./suggestion";

export function SuggestedChange({ analysis }: { analysis: Analysis }) {
  const navigate = useNavigate();
  const patch = analysis.suggested_spec_patch;
  const job = useJob(patch ? analysis.job_id : undefined);
  if (!patch) return null;
  const current = job.data ? jobToSpec(job.data) : null;
  const problems = errorLines(analysis.patch_errors ?? []);
  const open = () => {
    const suggestion: Suggestion = { patch, runId: analysis.run_id };
    void navigate(`/jobs/${analysis.job_id}/edit`, { state: { suggestion } });
  };
  return (
    <div data-testid="suggested-change">
      <Typography.Text strong>Suggested change of the job</Typography.Text>
      <Space direction="vertical" style={{ width: "100%", marginTop: 4 }}>
        {analysis.patch_valid === false && (
          <Alert
            type="warning"
            showIcon
            message="The job would not validate with this change as it is"
            description={
              <ul className="error-list">
                {problems.map((p, i) => (
                  <li key={i}>{p.field ? `${p.field}: ${p.message}` : p.message}</li>
                ))}
              </ul>
            }
          />
        )}
        {current ? <SpecDiff before={current} after={applySuggestion(current, patch)} /> : job.error ? <Typography.Text type="secondary">The job is gone.</Typography.Text> : null}
        <Space>
          <Button icon={<EditOutlined />} onClick={open} disabled={!current} data-testid="open-suggestion">
            Open suggested change in the editor
          </Button>
          <Typography.Text type="secondary">Nothing changes until you save it there.</Typography.Text>
        </Space>
      </Space>
    </div>
  );
}
