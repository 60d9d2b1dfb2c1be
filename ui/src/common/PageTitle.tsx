import { Space, Typography } from "antd";
import { useEffect, type ReactNode } from "react";

/** A page's heading with actions on the right; also sets the document title. */
export function PageTitle({ title, extra, sub, docTitle }: { title: ReactNode; extra?: ReactNode; sub?: ReactNode; docTitle?: string }) {
  useEffect(() => {
    const text = docTitle ?? (typeof title === "string" ? title : null);
    if (text) document.title = `${text} · Hydra Jobs`;
  }, [title, docTitle]);
  return (
    <div className="page-title">
      <div>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {title}
        </Typography.Title>
        {sub && <div className="page-sub">{sub}</div>}
      </div>
      {extra && <Space wrap>{extra}</Space>}
    </div>
  );
}
