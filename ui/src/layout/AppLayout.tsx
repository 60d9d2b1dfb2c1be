import {
  ApartmentOutlined,
  AlertOutlined,
  AuditOutlined,
  CloudServerOutlined,
  DashboardOutlined,
  HistoryOutlined,
  KeyOutlined,
  LogoutOutlined,
  ScheduleOutlined,
} from "@ant-design/icons";
import { Button, Layout, Menu, Space, Tooltip } from "antd";
import type { ReactNode } from "react";
import { Link, useLocation } from "react-router";
import { sessionStore, type Session } from "../auth/session";
import { useMe } from "../auth/useMe";
import { ConnectionIndicator } from "../live/ConnectionIndicator";
import { DomainSwitcher } from "./DomainSwitcher";

const { Header, Sider, Content } = Layout;

function selectedKey(pathname: string): string {
  const first = pathname.split("/")[1] ?? "";
  return first === "" ? "dashboard" : first;
}

export function AppLayout({ session, children }: { session: Session; children: ReactNode }) {
  const location = useLocation();
  useMe(session);
  const items = [
    { key: "dashboard", icon: <DashboardOutlined />, label: <Link to="/">Dashboard</Link> },
    { key: "jobs", icon: <ScheduleOutlined />, label: <Link to="/jobs">Jobs</Link> },
    { key: "runs", icon: <HistoryOutlined />, label: <Link to="/runs">Runs</Link> },
    { key: "workers", icon: <CloudServerOutlined />, label: <Link to="/workers">Workers</Link> },
    { key: "alerts", icon: <AlertOutlined />, label: <Link to="/alerts">Alerts</Link> },
    { key: "audit", icon: <AuditOutlined />, label: <Link to="/audit">Audit</Link> },
    ...(session.isAdmin ? [{ key: "domains", icon: <ApartmentOutlined />, label: <Link to="/domains">Domains</Link> }] : []),
    ...(!session.isAdmin && session.role === "owner"
      ? [{ key: "tokens", icon: <KeyOutlined />, label: <Link to="/tokens">Tokens</Link> }]
      : []),
  ];
  return (
    <Layout className="app-shell">
      <Sider breakpoint="lg" collapsedWidth={64} theme="dark" width={208}>
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={26} height={26} />
          <span className="brand-name">Hydra Jobs</span>
        </Link>
        <Menu theme="dark" mode="inline" data-testid="nav" selectedKeys={[selectedKey(location.pathname)]} items={items} />
      </Sider>
      <Layout>
        <Header className="app-header">
          <div />
          <Space size="large">
            <DomainSwitcher session={session} />
            <ConnectionIndicator />
            <Tooltip title="Forget the token in this browser">
              <Button icon={<LogoutOutlined />} onClick={() => sessionStore.signOut()} data-testid="signout">
                Sign out
              </Button>
            </Tooltip>
          </Space>
        </Header>
        <Content className="app-content">{children}</Content>
      </Layout>
    </Layout>
  );
}
