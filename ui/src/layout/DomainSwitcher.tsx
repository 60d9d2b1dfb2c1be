import { ApartmentOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { AutoComplete, Input, Space, Tag, Tooltip } from "antd";
import { useEffect, useMemo, useState } from "react";
import { DEFAULT_DOMAIN, DOMAIN_RE, sessionStore, type Session } from "../auth/session";
import { useDomains } from "../hooks/useDomains";

const RECENT_KEY = "hydra.recent-domains";

function recentDomains(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((d): d is string => typeof d === "string") : [];
  } catch {
    return [];
  }
}

function remember(domain: string): void {
  const list = [domain, ...recentDomains().filter((d) => d !== domain)].slice(0, 10);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // not important
  }
}

/** The domain in the header: a switcher for the admin (X-Hydra-Domain), a label for a domain token. */
export function DomainSwitcher({ session }: { session: Session }) {
  const client = useQueryClient();
  const domains = useDomains(session.isAdmin);
  const current = session.domain ?? DEFAULT_DOMAIN;
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);

  const options = useMemo(() => {
    const names = new Set<string>([DEFAULT_DOMAIN, current, ...recentDomains(), ...(domains.data?.map((d) => d.name) ?? [])]);
    return [...names].sort().map((value) => ({ value }));
  }, [domains.data, current]);

  if (!session.isAdmin) {
    return (
      <Tooltip title="The domain of this token">
        <Tag icon={<ApartmentOutlined />} data-testid="domain-label">
          {session.domain ?? "…"}
        </Tag>
      </Tooltip>
    );
  }

  const commit = (value: string) => {
    const domain = value.trim();
    if (!DOMAIN_RE.test(domain)) {
      setText(current);
      return;
    }
    if (domain === current) return;
    remember(domain);
    sessionStore.setDomain(domain);
    // Nothing cached belongs to the new domain: drop it all and refetch what is on screen.
    void client.cancelQueries().then(() => client.resetQueries());
  };

  const invalid = text.trim() !== "" && !DOMAIN_RE.test(text.trim());
  return (
    <Space.Compact>
      <Tooltip title="Admin: the domain you act in (X-Hydra-Domain). Type a name and press Enter.">
        <span className="domain-addon">
          <ApartmentOutlined /> Domain
        </span>
      </Tooltip>
      <AutoComplete
        value={text}
        options={options}
        onChange={setText}
        onSelect={commit}
        style={{ width: 170 }}
        data-testid="domain-switcher"
      >
        <Input status={invalid ? "error" : undefined} onPressEnter={() => commit(text)} onBlur={() => commit(text)} />
      </AutoComplete>
    </Space.Compact>
  );
}
