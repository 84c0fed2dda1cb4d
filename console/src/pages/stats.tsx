/** Stats: every metric as `name: value`, filterable (from `/stats?format=json`). */

import { useEffect, useState } from "preact/hooks";
import type { StatsFlatResponse } from "../../../src/admin/types.ts";
import { getJson } from "../api.ts";
import { type Column, DataTable } from "../components/data_table.tsx";
import { useInterval } from "../use_interval.ts";

type Row = StatsFlatResponse["stats"][number];

const COLUMNS: readonly Column<Row>[] = [
  { key: "name", label: "Metric", value: (r) => r.name, render: (r) => <code>{r.name}</code> },
  {
    key: "value",
    label: "Value",
    value: (r) => Number(r.value),
    render: (r) => r.value,
    numeric: true,
  },
];

export function StatsPage() {
  const [data, setData] = useState<StatsFlatResponse>();
  const [error, setError] = useState<string>();
  const load = () =>
    getJson<StatsFlatResponse>("/stats?format=json").then((d) => {
      setData(d);
      setError(undefined);
    }, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  useInterval(load, 3000);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">Stats</h2>
      <DataTable
        caption="Metrics"
        testId="stats"
        columns={COLUMNS}
        rows={data.stats}
        rowKey={(r) => r.name}
        filterLabel="Filter metrics"
      />
    </section>
  );
}
