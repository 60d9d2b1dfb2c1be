/** Above the job editor while a suggested change is reviewed: where it came from, and its diff. */
import { Alert, Collapse } from "antd";
import { Link } from "react-router";
import { shortId } from "../common/format";
import { SpecDiff } from "./SpecDiff";

export function SuggestionNotice({ runId, before, after }: { runId: string; before: unknown; after: unknown }) {
  return (
    <Alert
      type="info"
      showIcon
      style={{ marginBottom: 16 }}
      message={
        <>
          The change suggested by the analysis of run <Link to={`/runs/${runId}`}>{shortId(runId)}</Link> is in the editor. Nothing is
          saved until you press Save.
        </>
      }
      description={<Collapse size="small" defaultActiveKey={["diff"]} items={[{ key: "diff", label: "The change against the saved job", children: <SpecDiff before={before} after={after} /> }]} />}
      data-testid="suggestion-notice"
    />
  );
}
