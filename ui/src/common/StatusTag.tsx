import {
  CheckCircleOutlined,
  ClockCircleOutlined,
  CloseCircleOutlined,
  ExclamationCircleOutlined,
  MinusCircleOutlined,
  QuestionCircleOutlined,
  StopOutlined,
  SyncOutlined,
} from "@ant-design/icons";
import { Tag } from "antd";
import type { ReactNode } from "react";
import type { RunStatus } from "../api/types";
import { statusLabel, STATUS_TAG } from "./statusLook";

const ICON: Record<RunStatus, ReactNode> = {
  pending: <ClockCircleOutlined />,
  queued: <ClockCircleOutlined />,
  running: <SyncOutlined spin />,
  succeeded: <CheckCircleOutlined />,
  failed: <CloseCircleOutlined />,
  timed_out: <ExclamationCircleOutlined />,
  cancelled: <StopOutlined />,
  lost: <QuestionCircleOutlined />,
  skipped: <MinusCircleOutlined />,
};

export function StatusTag({ status }: { status: RunStatus | null | undefined }) {
  if (!status) return <Tag>never run</Tag>;
  return (
    <Tag color={STATUS_TAG[status]} icon={ICON[status]} data-testid="run-status" data-status={status}>
      {statusLabel(status)}
    </Tag>
  );
}
