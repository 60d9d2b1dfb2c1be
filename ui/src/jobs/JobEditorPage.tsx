import { Skeleton } from "antd";
import { useCallback, useMemo } from "react";
import { useLocation, useNavigate, useParams } from "react-router";
import { applySuggestion, suggestionOf } from "../ai/suggestion";
import { SuggestionNotice } from "../ai/SuggestionNotice";
import type { JobSpec } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { useCreateJob, useJob, useReplaceJob } from "../hooks/useJobs";
import { JobEditor } from "./form/JobEditor";
import { jobToSpec, NEW_JOB } from "./form/jobForm";

export function NewJobPage() {
  const navigate = useNavigate();
  const create = useCreateJob();
  const reset = create.reset;
  const onDirty = useCallback(() => reset(), [reset]);
  return (
    <JobEditor
      title="New job"
      initial={NEW_JOB}
      saveLabel="Create job"
      saving={create.isPending}
      saveError={create.error}
      onSave={(spec: JobSpec) => create.mutate(spec, { onSuccess: (job) => void navigate(`/jobs/${job.id}`) })}
      onCancel={() => void navigate("/jobs")}
      onDirty={onDirty}
      generator
    />
  );
}

export function EditJobPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const job = useJob(id);
  // A suggested change from a run's analysis: opened applied, saved only by the user.
  const suggestion = suggestionOf(useLocation().state);
  const replace = useReplaceJob(id);
  const reset = replace.reset;
  const onDirty = useCallback(() => reset(), [reset]);
  // Load once: live updates of the job must not overwrite what is being typed.
  const loaded = job.data;
  const saved = useMemo(() => (loaded ? jobToSpec(loaded) : null), [loaded?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const initial = useMemo(() => (saved && suggestion ? applySuggestion(saved, suggestion.patch) : saved), [saved]); // eslint-disable-line react-hooks/exhaustive-deps

  if (job.error) return <ErrorAlert error={job.error} title="Could not load the job" />;
  if (!initial || !loaded || !saved) return <Skeleton active />;
  return (
    <JobEditor
      title={`Edit ${loaded.name}`}
      initial={initial}
      saveLabel="Save"
      saving={replace.isPending}
      saveError={replace.error}
      onSave={(spec) => replace.mutate(spec, { onSuccess: (saved) => void navigate(`/jobs/${saved.id}`) })}
      onCancel={() => void navigate(`/jobs/${id}`)}
      onDirty={onDirty}
      changed={suggestion !== null}
      notice={suggestion ? <SuggestionNotice runId={suggestion.runId} before={saved} after={initial} /> : undefined}
    />
  );
}
