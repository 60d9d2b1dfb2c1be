/** The admin's domain switcher over `GET /domains`: a chunk of its own, as only the admin loads the Select. */
import { ApartmentOutlined, CrownOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { Select, Space, Tag, Tooltip } from "antd";
import { useMemo } from "react";
import { DEFAULT_DOMAIN, type Session } from "../auth/session";
import { switchDomain } from "../auth/switchDomain";
import { useDomains } from "../hooks/useDomains";
import { plural } from "../common/plural";

export function AdminSwitcher({ session }: { session: Session }) {
  const client = useQueryClient();
  const domains = useDomains(true);
  const current = session.domain ?? DEFAULT_DOMAIN;

  const options = useMemo(() => {
    const listed = domains.data ?? [];
    const rows = listed.map((d) => ({ value: d.name, label: d.name, jobs: d.jobs }));
    // The stored choice may be gone (deleted elsewhere): still show what is selected, flagged.
    if (!listed.some((d) => d.name === current)) rows.unshift({ value: current, label: `${current} (not found)`, jobs: 0 });
    return rows;
  }, [domains.data, current]);

  return (
    <Space size={6} className="identity">
      <Tooltip title="The admin token: acts in any domain">
        <Tag color="gold" icon={<CrownOutlined />} data-testid="identity-admin">
          admin
        </Tag>
      </Tooltip>
      <Space.Compact>
        <Tooltip title="The domain you act in: every page, change and the live stream are of this domain (X-Hydra-Domain)">
          <span className="domain-addon">
            <ApartmentOutlined /> Domain
          </span>
        </Tooltip>
        <Select
          value={current}
          options={options}
          showSearch
          loading={domains.isLoading}
          style={{ width: 190 }}
          popupMatchSelectWidth={false}
          optionRender={(o) => (
            <span data-testid="domain-option">
              <span className="mono">{o.data.value}</span>
              <span className="muted"> · {plural(o.data.jobs, "job")}</span>
            </span>
          )}
          onChange={(value: string) => void switchDomain(client, value)}
          data-testid="domain-switcher"
          aria-label="Domain"
        />
      </Space.Compact>
    </Space>
  );
}
