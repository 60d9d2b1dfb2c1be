import { DownloadOutlined, DownOutlined, SearchOutlined, UpOutlined, VerticalAlignBottomOutlined } from "@ant-design/icons";
import { Button, Input, Space, Tooltip, Typography } from "antd";
import { plural } from "../common/plural";

interface Props {
  query: string;
  onQuery: (q: string) => void;
  matchCount: number;
  matchIndex: number;
  onNext: () => void;
  onPrev: () => void;
  follow: boolean;
  onFollow: (follow: boolean) => void;
  onDownload: () => void;
  lineCount: number;
  live: boolean;
}

export function LogToolbar(p: Props) {
  return (
    <div className="log-toolbar">
      <Space wrap>
        <Input
          allowClear
          size="small"
          prefix={<SearchOutlined />}
          placeholder="Search the log"
          value={p.query}
          onChange={(e) => p.onQuery(e.target.value)}
          onPressEnter={(e) => (e.shiftKey ? p.onPrev() : p.onNext())}
          style={{ width: 240 }}
          data-testid="log-search"
        />
        {p.query && (
          <Typography.Text type="secondary" data-testid="log-match-count">
            {p.matchCount === 0 ? "no match" : `${p.matchIndex + 1} / ${plural(p.matchCount, "line")}`}
          </Typography.Text>
        )}
        <Button size="small" icon={<UpOutlined />} disabled={p.matchCount === 0} onClick={p.onPrev} aria-label="Previous match" />
        <Button size="small" icon={<DownOutlined />} disabled={p.matchCount === 0} onClick={p.onNext} aria-label="Next match" />
      </Space>
      <Space wrap>
        <Typography.Text type="secondary" data-testid="log-line-count">
          {plural(p.lineCount, "line")}
        </Typography.Text>
        <Tooltip title="Keep the newest line in view">
          <Button
            size="small"
            type={p.follow ? "primary" : "default"}
            icon={<VerticalAlignBottomOutlined />}
            onClick={() => p.onFollow(!p.follow)}
            data-testid="log-follow"
          >
            {p.live ? "Follow" : "Bottom"}
          </Button>
        </Tooltip>
        <Button size="small" icon={<DownloadOutlined />} onClick={p.onDownload} data-testid="log-download">
          Download
        </Button>
      </Space>
    </div>
  );
}
