import { Button, Result, Skeleton } from "antd";
import { lazy, Suspense, type ComponentType } from "react";
import { Route, Routes, useNavigate } from "react-router";
import { useSession } from "./auth/useSession";
import { AppLayout } from "./layout/AppLayout";
import { LiveSync } from "./live/LiveSync";

/** Pages load on first visit: the sign-in page and the shell stay small. */
function page<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

// Signed in, the sign-in form (antd Form and its validator) is not loaded at all.
const SignInPage = lazy(async () => ({ default: (await import("./auth/SignInPage")).SignInPage }));
const DashboardPage = page(() => import("./dashboard/DashboardPage"), "DashboardPage");
const JobsPage = page(() => import("./jobs/JobsPage"), "JobsPage");
const JobDetailPage = page(() => import("./jobs/JobDetailPage"), "JobDetailPage");
const NewJobPage = page(() => import("./jobs/JobEditorPage"), "NewJobPage");
const EditJobPage = page(() => import("./jobs/JobEditorPage"), "EditJobPage");
const RunsPage = page(() => import("./runs/RunsPage"), "RunsPage");
const RunDetailPage = page(() => import("./runs/RunDetailPage"), "RunDetailPage");
const WorkersPage = page(() => import("./workers/WorkersPage"), "WorkersPage");
const DomainsPage = page(() => import("./domains/DomainsPage"), "DomainsPage");
const AuditPage = page(() => import("./audit/AuditPage"), "AuditPage");
const TokensPage = page(() => import("./domains/TokensPage"), "TokensPage");
const ChannelsPage = page(() => import("./notify/ChannelsPage"), "ChannelsPage");

function NotFound() {
  const navigate = useNavigate();
  return <Result status="404" title="No such page" extra={<Button onClick={() => void navigate("/")}>Dashboard</Button>} />;
}

export function App({ linkToken = null }: { linkToken?: string | null }) {
  const session = useSession();
  return (
    <>
      <LiveSync />
      {!session ? (
        <Suspense fallback={<Skeleton active />}>
          <SignInPage linkToken={linkToken} />
        </Suspense>
      ) : (
        <AppLayout session={session}>
          <Suspense fallback={<Skeleton active />}>
            <Routes>
              <Route path="/" element={<DashboardPage />} />
              <Route path="/jobs" element={<JobsPage />} />
              <Route path="/jobs/new" element={<NewJobPage />} />
              <Route path="/jobs/:id" element={<JobDetailPage />} />
              <Route path="/jobs/:id/edit" element={<EditJobPage />} />
              <Route path="/runs" element={<RunsPage />} />
              <Route path="/runs/:id" element={<RunDetailPage />} />
              <Route path="/workers" element={<WorkersPage />} />
              <Route path="/audit" element={<AuditPage />} />
              <Route path="/alerts" element={<ChannelsPage />} />
              {session.isAdmin && <Route path="/domains" element={<DomainsPage />} />}
              {!session.isAdmin && session.role === "owner" && <Route path="/tokens" element={<TokensPage />} />}
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Suspense>
        </AppLayout>
      )}
    </>
  );
}
