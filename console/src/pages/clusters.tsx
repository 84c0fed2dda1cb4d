/** Clusters: hosts with health and reason, weight, load, success rate, latency; breaker usage. */

import type {
  ConsoleClusterJson,
  ConsoleClustersResponse,
  ConsoleHostJson,
  ResourceUsageJson,
} from "../../../src/admin/console_types.ts";
import { type Column, DataTable } from "../components/data_table.tsx";
import { percent } from "../format.ts";

function healthText(h: ConsoleHostJson): string {
  if (h.healthy) return "healthy";
  return h.health_flags.map((f) => {
    const why = h.health_reasons[f];
    const name = f === "failed_active_hc"
      ? "active check failed"
      : f === "failed_outlier_check"
      ? "ejected (outlier)"
      : f;
    return why ? `${name}: ${why}` : name;
  }).join("; ");
}

const HOST_COLUMNS: readonly Column<ConsoleHostJson>[] = [
  {
    key: "address",
    label: "Host",
    value: (h) => h.address,
    render: (h) => <code>{h.address}</code>,
  },
  {
    key: "health",
    label: "Health",
    value: (h) => healthText(h),
    render: (h) => (
      <span
        class={h.healthy ? "badge ok" : "badge bad"}
        data-health={h.healthy ? "healthy" : "unhealthy"}
      >
        {healthText(h)}
      </span>
    ),
  },
  { key: "weight", label: "Weight", value: (h) => h.weight, numeric: true },
  { key: "cx", label: "Active cx", value: (h) => h.cx_active, numeric: true },
  { key: "rq", label: "Active rq", value: (h) => h.rq_active, numeric: true },
  { key: "total", label: "Requests", value: (h) => h.rq_total, numeric: true },
  {
    key: "success",
    label: "Success",
    value: (h) => h.success_rate ?? -1,
    render: (h) => percent(h.success_rate),
    numeric: true,
  },
  { key: "p50", label: "p50 ms", value: (h) => h.latency_p50_ms, numeric: true },
  { key: "p99", label: "p99 ms", value: (h) => h.latency_p99_ms, numeric: true },
];

function Usage({ label, u }: { readonly label: string; readonly u: ResourceUsageJson }) {
  const pct = u.max > 0 ? Math.min(100, (u.used / u.max) * 100) : 0;
  return (
    <div class="usage">
      <span>{label}</span>
      {u.max > 0
        ? <meter min={0} max={u.max} value={u.used} aria-label={`${label} ${u.used} of ${u.max}`} />
        : <span class="muted">unlimited</span>}
      <span class="num">
        {u.used}
        {u.max > 0 ? ` / ${u.max} (${pct.toFixed(0)}%)` : ""}
      </span>
    </div>
  );
}

function Cluster({ c }: { readonly c: ConsoleClusterJson }) {
  const id = `cluster-${c.name.replace(/\W+/g, "-")}`;
  return (
    <section class="panel" aria-labelledby={id} data-cluster={c.name}>
      <h3 id={id}>
        {c.name}{" "}
        <span class="muted">
          {c.type} · {c.lb_type} · {c.healthy_hosts}/{c.hosts.length} healthy
        </span>
      </h3>
      <div class="breakers" aria-label="circuit breakers">
        <Usage label="connections" u={c.circuit_breakers.connections} />
        <Usage label="pending" u={c.circuit_breakers.pending_requests} />
        <Usage label="requests" u={c.circuit_breakers.requests} />
        <Usage label="retries" u={c.circuit_breakers.retries} />
      </div>
      <DataTable
        caption={`Hosts of ${c.name}`}
        testId={`hosts-${c.name}`}
        columns={HOST_COLUMNS}
        rows={c.hosts}
        rowKey={(h) => h.address}
        filterLabel="Filter hosts"
      />
    </section>
  );
}

export function ClustersPage({ data }: { readonly data: ConsoleClustersResponse | undefined }) {
  if (!data) return <p class="muted">Waiting for data…</p>;
  return (
    <>
      <h2>Clusters</h2>
      {data.clusters.length === 0 && <p class="muted">no clusters configured</p>}
      {data.clusters.map((c) => <Cluster key={c.name} c={c} />)}
    </>
  );
}
