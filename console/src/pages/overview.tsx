/** Overview: version, uptime, listeners, live rate/error/latency sparklines, connections. */

import type { OverviewPoint, OverviewResponse } from "../../../src/admin/console_types.ts";
import { Sparkline } from "../components/sparkline.tsx";
import { duration } from "../format.ts";

interface Props {
  readonly overview: OverviewResponse | undefined;
  readonly history: readonly OverviewPoint[];
}

export function OverviewPage({ overview, history }: Props) {
  if (!overview) return <p class="muted">Waiting for data…</p>;
  const o = overview;
  const series = (f: (p: OverviewPoint) => number) => history.map(f);
  return (
    <>
      <section aria-labelledby="ov-process" class="cards">
        <h2 id="ov-process" class="sr-only">Process</h2>
        <dl class="card">
          <dt>Version</dt>
          <dd data-testid="version">{o.version}</dd>
        </dl>
        <dl class="card">
          <dt>State</dt>
          <dd>{o.state}</dd>
        </dl>
        <dl class="card">
          <dt>Uptime</dt>
          <dd>{duration(o.uptime_seconds * 1000)}</dd>
        </dl>
        <dl class="card">
          <dt>Requests</dt>
          <dd data-testid="requests-total">{o.totals.requests}</dd>
        </dl>
        <dl class="card">
          <dt>5xx responses</dt>
          <dd>{o.totals.errors}</dd>
        </dl>
        <dl class="card">
          <dt>Connections</dt>
          <dd>
            <span data-testid="cx-downstream">{o.totals.downstream_cx_active}</span> down /{" "}
            {o.totals.upstream_cx_active} up
          </dd>
        </dl>
      </section>
      <section aria-labelledby="ov-live">
        <h2 id="ov-live">
          Last {Math.round(history.length * o.sample_interval_ms / 60000) || 1} min
        </h2>
        <div class="sparks">
          <Sparkline label="Requests/s" unit="rps" values={series((p) => p.rps)} />
          <Sparkline
            label="Errors/s"
            unit="5xx/s"
            values={series((p) => p.errors_per_s)}
            digits={2}
          />
          <Sparkline label="p50 latency" unit="ms" values={series((p) => p.p50_ms)} digits={2} />
          <Sparkline label="p99 latency" unit="ms" values={series((p) => p.p99_ms)} digits={2} />
          <Sparkline
            label="Active connections"
            unit="conns"
            digits={0}
            values={series((p) => p.downstream_cx_active + p.upstream_cx_active)}
          />
        </div>
      </section>
      <section aria-labelledby="ov-listeners">
        <h2 id="ov-listeners">Listeners</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Address</th>
              <th scope="col">Accepting</th>
              <th scope="col" class="num">Connections</th>
            </tr>
          </thead>
          <tbody>
            {o.listeners.map((l) => (
              <tr key={l.name}>
                <td>{l.name}</td>
                <td>
                  <code>{l.address}</code>
                </td>
                <td>{l.accepting ? "yes" : "no"}</td>
                <td class="num">{l.active_connections}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
