import { Card, Col, Row, Statistic } from "antd";
import type { Stats } from "../api/types";
import { STATUS_COLOR } from "../common/statusLook";

function sum(counts: Record<string, number>, keys: string[]): number {
  return keys.reduce((a, k) => a + (counts[k] ?? 0), 0);
}

export function StatCards({ stats }: { stats: Stats }) {
  const c = stats.counts;
  const total = Object.values(c).reduce((a, n) => a + n, 0);
  const rate = stats.success_rate;
  const cards = [
    { key: "total", title: "Runs (24 h)", value: total },
    { key: "active", title: "Running / queued", value: sum(c, ["running", "queued", "pending"]), color: STATUS_COLOR.running },
    { key: "succeeded", title: "Succeeded", value: sum(c, ["succeeded"]), color: STATUS_COLOR.succeeded },
    { key: "failed", title: "Failed / timed out / lost", value: sum(c, ["failed", "timed_out", "lost"]), color: STATUS_COLOR.failed },
    {
      key: "rate",
      title: "Success rate",
      value: rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(rate >= 0.995 || rate === 0 ? 0 : 1)} %`,
      color: rate !== null && rate !== undefined && rate < 0.9 ? STATUS_COLOR.failed : STATUS_COLOR.succeeded,
    },
    { key: "workers", title: "Workers online", value: stats.workers_online, color: stats.workers_online === 0 ? STATUS_COLOR.failed : undefined },
  ];
  return (
    <Row gutter={[16, 16]}>
      {cards.map((card) => (
        <Col key={card.key} xs={12} md={8} xl={4}>
          <Card size="small" data-testid={`stat-${card.key}`}>
            <Statistic title={card.title} value={card.value} valueStyle={card.color ? { color: card.color } : undefined} />
          </Card>
        </Col>
      ))}
    </Row>
  );
}
