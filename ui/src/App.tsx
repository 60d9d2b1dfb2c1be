import { Result, Button } from "antd";
import { Route, Routes, useNavigate } from "react-router";
import { SignInPage } from "./auth/SignInPage";
import { useSession } from "./auth/useSession";
import { DashboardPage } from "./dashboard/DashboardPage";
import { DomainsPage } from "./domains/DomainsPage";
import { JobDetailPage } from "./jobs/JobDetailPage";
import { EditJobPage, NewJobPage } from "./jobs/JobEditorPage";
import { JobsPage } from "./jobs/JobsPage";
import { AppLayout } from "./layout/AppLayout";
import { LiveSync } from "./live/LiveSync";
import { RunDetailPage } from "./runs/RunDetailPage";
import { RunsPage } from "./runs/RunsPage";
import { WorkersPage } from "./workers/WorkersPage";

function NotFound() {
  const navigate = useNavigate();
  return <Result status="404" title="No such page" extra={<Button onClick={() => void navigate("/")}>Dashboard</Button>} />;
}

export function App() {
  const session = useSession();
  return (
    <>
      <LiveSync />
      {!session ? (
        <SignInPage />
      ) : (
        <AppLayout session={session}>
          <Routes>
            <Route path="/" element={<DashboardPage />} />
            <Route path="/jobs" element={<JobsPage />} />
            <Route path="/jobs/new" element={<NewJobPage />} />
            <Route path="/jobs/:id" element={<JobDetailPage />} />
            <Route path="/jobs/:id/edit" element={<EditJobPage />} />
            <Route path="/runs" element={<RunsPage />} />
            <Route path="/runs/:id" element={<RunDetailPage />} />
            <Route path="/workers" element={<WorkersPage />} />
            {session.isAdmin && <Route path="/domains" element={<DomainsPage />} />}
            <Route path="*" element={<NotFound />} />
          </Routes>
        </AppLayout>
      )}
    </>
  );
}
