/** Connections: live downstream and upstream connections, sortable and filterable. */

import type { ConnectionJson, ConnectionsResponse } from "../../../src/admin/console_types.ts";
import { type Column, DataTable } from "../components/data_table.tsx";
import { bytes, duration } from "../format.ts";

const COLUMNS: readonly Column<ConnectionJson>[] = [
  { key: "id", label: "ID", value: (c) => c.id, numeric: true },
  { key: "direction", label: "Direction", value: (c) => c.direction },
  {
    key: "owner",
    label: "Listener / cluster",
    value: (c) => c.owner + (c.host ? ` ${c.host}` : ""),
  },
  { key: "protocol", label: "Protocol", value: (c) => c.protocol || "–" },
  {
    key: "peer",
    label: "Peer",
    value: (c) => c.remote_address,
    render: (c) => <code>{c.remote_address}</code>,
  },
  { key: "tls", label: "TLS", value: (c) => c.tls ?? "–" },
  {
    key: "in",
    label: "Bytes in",
    value: (c) => c.bytes_read,
    render: (c) => bytes(c.bytes_read),
    numeric: true,
  },
  {
    key: "out",
    label: "Bytes out",
    value: (c) => c.bytes_written,
    render: (c) => bytes(c.bytes_written),
    numeric: true,
  },
  {
    key: "age",
    label: "Age",
    value: (c) => c.age_ms,
    render: (c) => duration(c.age_ms),
    numeric: true,
  },
  {
    key: "streams",
    label: "Active streams",
    value: (c) => c.active_streams ?? -1,
    render: (c) => c.active_streams ?? "–",
    numeric: true,
  },
];

export function ConnectionsPage({ data }: { readonly data: ConnectionsResponse | undefined }) {
  if (!data) return <p class="muted">Waiting for data…</p>;
  return (
    <section aria-labelledby="cx-title">
      <h2 id="cx-title">
        Connections <span class="muted">({data.total})</span>
      </h2>
      <DataTable
        caption="Live connections"
        testId="connections"
        columns={COLUMNS}
        rows={data.connections}
        rowKey={(c) => c.id}
        initialSort={{ key: "id", desc: true }}
        empty="no open connections"
      />
    </section>
  );
}
