/** The job editor's form: the common JobSpec fields in sections, server errors shown at each field. */
import { Divider } from "antd";
import type { MappedErrors } from "./fieldErrors";
import { AlertFields } from "./fields/AlertFields";
import { EnvParamsFields } from "./fields/EnvParamsFields";
import { ExecutorFields } from "./fields/ExecutorFields";
import { fieldStatus } from "./fields/fieldStatus";
import { GeneralFields } from "./fields/GeneralFields";
import { LimitsFields } from "./fields/LimitsFields";
import { ScheduleFields } from "./fields/ScheduleFields";
import { SourceFields } from "./fields/SourceFields";
import type { JobFormValues } from "./jobForm";

function Section({ title }: { title: string }) {
  return (
    <Divider orientation="left" plain>
      {title}
    </Divider>
  );
}

export function JobFormFields({ errors, values }: { errors: MappedErrors; values: JobFormValues }) {
  const status = fieldStatus(errors);
  return (
    <>
      <GeneralFields status={status} />
      <Section title="What to run" />
      <SourceFields status={status} kind={values.sourceKind} />
      <ExecutorFields status={status} type={values.executorType} fromGit={values.sourceKind === "git"} />
      <Section title="Schedule" />
      <ScheduleFields status={status} values={values} />
      <Section title="Environment and parameters" />
      <EnvParamsFields status={status} />
      <Section title="Limits, retries and placement" />
      <LimitsFields status={status} />
      <Section title="Alerts" />
      <AlertFields status={status} />
    </>
  );
}
