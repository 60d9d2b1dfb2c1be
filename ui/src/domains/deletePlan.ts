/** What deleting a domain takes: an empty one goes with a confirm; one holding jobs needs its name typed. */
import type { Domain } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";

export interface DeletePlan {
  /** Send `force=true`: the domain's jobs, runs and logs go with it. */
  force: boolean;
  /** The text to type before the delete button works (null: a plain confirmation). */
  mustType: string | null;
}

export function deletePlan(domain: Pick<Domain, "name" | "jobs">): DeletePlan {
  return domain.jobs > 0 ? { force: true, mustType: domain.name } : { force: false, mustType: null };
}

export function isConfirmed(plan: DeletePlan, typed: string): boolean {
  return plan.mustType === null || typed.trim() === plan.mustType;
}

/** The server refuses to delete `default` (409): the UI does not offer it. */
export function canDelete(name: string): boolean {
  return name !== DEFAULT_DOMAIN;
}
