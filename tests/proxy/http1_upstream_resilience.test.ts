import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, simpleRouter } from "../_support/http.ts";
import { waitFor } from "../_support/wait.ts";

function upstreamScope(mosn: ReturnType<typeof startInProcess>, cluster: string) {
  return [...mosn.stats.scopes()].find((s) =>
    s.type === "upstream" && s.labels.cluster === cluster && !s.labels.host
  )!;
}

Deno.test("circuit breaker: max_requests 10 with 50 concurrent slow requests → 10 in flight, 40 answered 503", async () => {
  let inFlight = 0;
  let peak = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = origin(async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await gate;
    inFlight--;
    return new Response("done");
  });
  const mosn = startInProcess(httpDoc({
    clusters: [{
      name: "c",
      hosts: [{ address: slow.address }],
      circuit_breakers: [{ max_requests: 10 }],
    }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
  }));
  const port = mosn.listenerPort("http");
  try {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 50 });
    const all = Array.from(
      { length: 50 },
      () =>
        fetch(`http://127.0.0.1:${port}/`, { client }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
    );
    // Let every request reach the proxy, then open the gate.
    await waitFor(() => inFlight === 10, "ten requests at the origin");
    const overflow = upstreamScope(mosn, "c").counter("request_pending_overflow");
    await waitFor(() => overflow.value === 40, "the other forty to overflow");
    release();
    const statuses = await Promise.all(all);
    client.close();
    assert.equal(peak, 10);
    assert.equal(statuses.filter((s) => s === 200).length, 10);
    assert.equal(statuses.filter((s) => s === 503).length, 40);
    assert.equal(upstreamScope(mosn, "c").counter("request_pending_overflow").value, 40);
    assert.equal(upstreamScope(mosn, "c").counter("request_total").value, 10);
  } finally {
    await mosn.stop("fast");
    await slow.close();
  }
});

Deno.test("consistent hashing through the proxy: the same header value always reaches the same host", async () => {
  const names = ["a", "b", "c", "d", "e"];
  const hosts = names.map((n) => origin(() => new Response(n)));
  const mosn = startInProcess(httpDoc({
    clusters: [{
      name: "c",
      lb_type: "LB_MAGLEV",
      hosts: hosts.map((h) => ({ address: h.address })),
    }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: { cluster_name: "c", hash_policy: [{ header: { key: "x-user" } }] },
    }])],
  }));
  const port = mosn.listenerPort("http");
  try {
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 1000; i++) {
      const user = `u${i % 20}`;
      const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { "x-user": user } });
      const who = await r.text();
      (seen.get(user) ?? seen.set(user, new Set()).get(user)!).add(who);
    }
    for (const [user, set] of seen) assert.equal(set.size, 1, `${user} went to ${[...set]}`);
    const used = new Set([...seen.values()].flatMap((s) => [...s]));
    assert.ok(used.size >= 3, `20 keys spread over ${used.size} hosts`);
  } finally {
    await mosn.stop("fast");
    await Promise.all(hosts.map((h) => h.close()));
  }
});

Deno.test("subset load balancing: metadata_match reaches only the matching hosts; no match follows fall_back_policy", async () => {
  const v1 = origin(() => new Response("v1"));
  const v2a = origin(() => new Response("v2"));
  const v2b = origin(() => new Response("v2"));
  const mosn = startInProcess(httpDoc({
    clusters: [{
      name: "c",
      lb_type: "LB_ROUNDROBIN",
      lb_subset_config: {
        fall_back_policy: 2,
        default_subset: { version: "v1" },
        subset_selectors: [["version"]],
      },
      hosts: [
        { address: v1.address, metadata: { filter_metadata: { "mosn.lb": { version: "v1" } } } },
        { address: v2a.address, metadata: { filter_metadata: { "mosn.lb": { version: "v2" } } } },
        { address: v2b.address, metadata: { filter_metadata: { "mosn.lb": { version: "v2" } } } },
      ],
    }],
    routers: [simpleRouter([
      {
        match: { prefix: "/v2" },
        route: {
          cluster_name: "c",
          metadata_match: { filter_metadata: { "mosn.lb": { version: "v2" } } },
        },
      },
      {
        match: { prefix: "/v9" },
        route: {
          cluster_name: "c",
          metadata_match: { filter_metadata: { "mosn.lb": { version: "v9" } } },
        },
      },
    ])],
  }));
  const port = mosn.listenerPort("http");
  try {
    for (let i = 0; i < 20; i++) {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/v2`)).text(), "v2");
      // No v9 subset: DEFAULT_SUBSET (version v1).
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/v9`)).text(), "v1");
    }
    assert.ok(v2a.requests > 0 && v2b.requests > 0);
  } finally {
    await mosn.stop("fast");
    await Promise.all([v1.close(), v2a.close(), v2b.close()]);
  }
});

Deno.test("outlier detection through the proxy: a host answering 5xx five times in a row is ejected, then returns", async () => {
  let bad = true;
  const flaky = origin(() => bad ? new Response("no", { status: 500 }) : new Response("flaky"));
  const good = origin(() => new Response("good"));
  const mosn = startInProcess(httpDoc({
    clusters: [{
      name: "c",
      hosts: [{ address: flaky.address }, { address: good.address }],
      outlier_detection: {
        consecutive_5xx: 5,
        interval: "100ms",
        base_ejection_time: "500ms",
        max_ejection_percent: 50,
      },
    }],
    routers: [simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "c" } }])],
  }));
  const port = mosn.listenerPort("http");
  try {
    for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
    const before = flaky.requests;
    assert.equal(before, 5, "the flaky host got exactly five requests before its ejection");
    bad = false;
    for (let i = 0; i < 20; i++) {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "good");
    }
    assert.equal(flaky.requests, before);
    // Back after base_ejection_time (500 ms; polled, as a loaded machine may run late).
    await waitFor(
      async () => (await (await fetch(`http://127.0.0.1:${port}/`)).text()) === "flaky",
      "the ejected host to take requests again",
      10_000,
      50,
    );
    const s = upstreamScope(mosn, "c");
    assert.equal(s.counter("outlier_detection_ejections_enforced_consecutive_5xx").value, 1);
  } finally {
    await mosn.stop("fast");
    await Promise.all([flaky.close(), good.close()]);
  }
});

Deno.test("active health checks: while one healthy host exists, 0 of 2000 requests fail across another host's death and revival", async () => {
  const a = origin(() => new Response("a"));
  let b = origin(() => new Response("b"));
  const bPort = b.port;
  const mosn = startInProcess(httpDoc({
    clusters: [{
      name: "c",
      hosts: [{ address: a.address }, { address: b.address }],
      health_check: {
        protocol: "tcp",
        interval: "100ms",
        timeout: "100ms",
        unhealthy_threshold: 2,
        healthy_threshold: 1,
      },
    }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: {
        cluster_name: "c",
        retry_policy: { retry_on: "connect-failure,reset", num_retries: 3 },
      },
    }])],
  }));
  const port = mosn.listenerPort("http");
  const host = mosn.clusterManager.get("c")!.hosts[1]!;
  try {
    const client = Deno.createHttpClient({});
    let failures = 0;
    let bAfterRevive = 0;
    for (let i = 0; i < 2000; i++) {
      if (i === 500) {
        await b.close();
        // It turns unhealthy within interval × unhealthy_threshold (plus a tick).
        await waitFor(() => !host.healthy, "the dead host to be marked unhealthy");
      }
      if (i === 1000) {
        // Revive on the same port; the next passing check marks it healthy again.
        b = origin(() => new Response("b"), bPort);
        await waitFor(() => host.healthy, "the revived host to be healthy again");
      }
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`, { client });
        const t = await r.text();
        if (r.status !== 200) failures++;
        if (i > 1000 && t === "b") bAfterRevive++;
      } catch {
        failures++;
      }
    }
    client.close();
    assert.equal(failures, 0);
    assert.ok(bAfterRevive > 100, `the revived host got ${bAfterRevive} requests`);
  } finally {
    await mosn.stop("fast");
    await a.close();
    await b.close().catch(() => {});
  }
});
