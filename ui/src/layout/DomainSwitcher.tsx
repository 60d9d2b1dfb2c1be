/** The domain in the header: a switcher over `GET /domains` for the admin, a label for a domain token. */
import { ApartmentOutlined, KeyOutlined } from "@ant-design/icons";
import { Space, Tag, Tooltip } from "antd";
import { lazy, Suspense } from "react";
import { ROLE_HELP } from "../auth/permissions";
import type { Session } from "../auth/session";

// Only the admin switches domains: a domain token's pages never load the Select.
const AdminSwitcher = lazy(async () => ({ default: (await import("./AdminSwitcher")).AdminSwitcher }));

export function DomainSwitcher({ session }: { session: Session }) {
  if (session.isAdmin)
    return (
      <Suspense fallback={null}>
        <AdminSwitcher session={session} />
      </Suspense>
    );
  return (
    <Space size={6} className="identity">
      <Tooltip title="This token's domain: it sees only this domain">
        <Tag icon={<ApartmentOutlined />} color="blue" data-testid="domain-label">
          {session.domain ?? "…"}
        </Tag>
      </Tooltip>
      <Tooltip title="Signed in with a domain token">
        <Tag icon={<KeyOutlined />} className="mono" data-testid="identity-token">
          {session.actor ?? "domain token"}
        </Tag>
      </Tooltip>
      {session.role && (
        <Tooltip title={`Its role: it ${ROLE_HELP[session.role]}`}>
          <Tag color={session.role === "viewer" ? "default" : "purple"} data-testid="session-role">
            {session.role}
          </Tag>
        </Tooltip>
      )}
    </Space>
  );
}
