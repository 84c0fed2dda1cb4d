/** Routes: router configs → virtual hosts → routes with match, action and hit counts. */

import { useEffect, useState } from "preact/hooks";
import type { RoutesResponse } from "../../../src/admin/console_types.ts";
import { getJson } from "../api.ts";
import { useInterval } from "../use_interval.ts";

export function RoutesPage() {
  const [data, setData] = useState<RoutesResponse>();
  const [error, setError] = useState<string>();
  const load = () =>
    getJson<RoutesResponse>("/api/v1/routes").then((d) => {
      setData(d);
      setError(undefined);
    }, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  useInterval(load, 2000);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  return (
    <>
      <h2>Routes</h2>
      {data.routers.length === 0 && <p class="muted">no routers configured</p>}
      {data.routers.map((r) => (
        <section class="panel" key={r.name} aria-label={`router ${r.name}`}>
          <h3>
            {r.name} <span class="muted">router</span>
          </h3>
          {r.virtual_hosts.map((vh) => (
            <div key={vh.name}>
              <h4>
                {vh.name}{" "}
                <span class="muted">domains {vh.domains.map((d) => <code key={d}>{d}</code>)}</span>
              </h4>
              <table data-testid={`routes-${r.name}-${vh.name}`}>
                <thead>
                  <tr>
                    <th scope="col" class="num">#</th>
                    <th scope="col">Match</th>
                    <th scope="col">Action</th>
                    <th scope="col" class="num">Hits</th>
                  </tr>
                </thead>
                <tbody>
                  {vh.routes.map((rt, i) => (
                    <tr key={i} data-route={rt.match}>
                      <td class="num">{i}</td>
                      <td>
                        <code>{rt.match}</code>
                      </td>
                      <td>{rt.action}</td>
                      <td class="num">{rt.hits}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </section>
      ))}
    </>
  );
}
