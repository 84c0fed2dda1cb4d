import assert from "node:assert/strict";
import { faultFactory } from "../../../src/filter/stream/fault/factory.ts";
import { FaultFilter } from "../../../src/filter/stream/fault/fault.ts";
import { StreamFilterStatus } from "../../../src/filter/stream/types.ts";
import { StreamInfo } from "../../../src/stream/stream_info.ts";
import { callbacks, CONFIG_PATH, parse, parseOk, seededRandom } from "./_support.ts";

const never = () => {
  throw new Error("random must not be drawn");
};

Deno.test("fault config: MOSN's nested delay/abort keys", () => {
  const c = parseOk(faultFactory, {
    delay: { fixed_delay: "1.5s", percentage: 100 },
    abort: { status: 500, percentage: 20 },
    upstream_cluster: "backend",
    headers: [{ name: "service", value: "test" }, { name: "user", value: "^b.b$", regex: true }],
  });
  assert.equal(c.delayMs, 1500);
  assert.equal(c.delayChance, 1);
  assert.equal(c.abortStatus, 500);
  assert.equal(c.abortChance, 0.2);
  assert.equal(c.upstreamCluster, "backend");
  assert.equal(c.headers.length, 2);
  assert.ok(c.headers[1]!.regex?.test("bob"));
  assert.ok(Object.isFrozen(c));
});

Deno.test("fault config: flat keys and Envoy's http_status / fractional percentage", () => {
  const flat = parseOk(faultFactory, {
    delay_percent: 50,
    delay_duration: "200ms",
    abort_percent: 10,
    abort_status: 503,
  });
  assert.deepEqual(
    [flat.delayMs, flat.delayChance, flat.abortStatus, flat.abortChance],
    [200, 0.5, 503, 0.1],
  );
  const envoy = parseOk(faultFactory, {
    DELAY: { fixed_delay: "1s", percentage: { numerator: 25, denominator: "TEN_THOUSAND" } },
    abort: { http_status: 429, percentage: { numerator: 100 } },
  });
  assert.equal(envoy.delayChance, 0.0025);
  assert.equal(envoy.abortStatus, 429);
  assert.equal(envoy.abortChance, 1);
});

Deno.test("fault config: errors name the JSON path and the value", () => {
  const { ctx } = parse(faultFactory, {
    delay: { fixed_delay: "soon", percentage: 150 },
    abort: { status: 99, percentage: 10 },
    headers: [{ name: "x", value: "(", regex: true }],
    bogus: 1,
  });
  const byPath = Object.fromEntries(ctx.issues.map((i) => [i.path, i.message]));
  assert.match(byPath[`${CONFIG_PATH}.delay.fixed_delay`]!, /duration.*"soon"/);
  assert.match(byPath[`${CONFIG_PATH}.delay.percentage`]!, /0-100, got 150/);
  assert.match(byPath[`${CONFIG_PATH}.abort.status`]!, /out of range 200-599, got 99/);
  assert.match(byPath[`${CONFIG_PATH}.headers[0].value`]!, /invalid regex "\("/);
  assert.deepEqual(ctx.warnings.map((w) => w.path), [`${CONFIG_PATH}.bogus`]);
});

Deno.test("fault config: abort without a status, and mixing flat and nested keys, are errors", () => {
  const { ctx } = parse(faultFactory, {
    abort_percent: 10,
    delay: { fixed_delay: "1s", percentage: 1 },
    delay_percent: 5,
  });
  const paths = ctx.issues.map((i) => i.path).sort();
  assert.deepEqual(paths, [`${CONFIG_PATH}.abort_status`, `${CONFIG_PATH}.delay_percent`]);
  const notObj = parse(faultFactory, { delay: "1s" });
  assert.equal(notObj.ctx.issues[0]?.path, `${CONFIG_PATH}.delay`);
});

Deno.test("fault: abort at 100% answers locally with the status, flags FI and stops", () => {
  const cfg = parseOk(faultFactory, { abort: { status: 503, percentage: 100 } });
  const { receiver } = faultFactory.prepare(cfg, { random: never })();
  const cb = callbacks();
  assert.equal(receiver?.phase, "AfterRoute");
  assert.equal(receiver!.onRequestHeaders!(cb, true), StreamFilterStatus.Stop);
  assert.deepEqual(cb.replies.map((r) => r.status), [503]);
  assert.ok(cb.info.hasFlag("FI"));
  assert.equal(cb.info.flagsText(), "FI");
});

Deno.test("fault: percentage 0 installs nothing and never draws a random number", () => {
  const cfg = parseOk(faultFactory, {
    delay: { fixed_delay: "1s", percentage: 0 },
    abort: { status: 500, percentage: 0 },
  });
  assert.deepEqual(faultFactory.prepare(cfg, { random: never })(), {});
  const cb = callbacks();
  const f = new FaultFilter(cfg, never);
  assert.equal(f.onRequestHeaders(cb), StreamFilterStatus.Continue);
  assert.equal(cb.replies.length, 0);
  assert.equal(cb.info.flagsText(), "-");
});

Deno.test("fault: delay resolves to Continue after at least the delay and flags DI", async () => {
  const cfg = parseOk(faultFactory, { delay: { fixed_delay: "40ms", percentage: 100 } });
  const { receiver } = faultFactory.prepare(cfg, { random: never })();
  const cb = callbacks();
  const t0 = performance.now();
  const res = receiver!.onRequestHeaders!(cb, true);
  assert.ok(res instanceof Promise);
  assert.ok(cb.info.hasFlag("DI"), "DI is set when the delay starts");
  assert.equal(await res, StreamFilterStatus.Continue);
  assert.ok(performance.now() - t0 >= 39, `waited ${performance.now() - t0} ms`);
  assert.equal(cb.replies.length, 0);
});

Deno.test("fault: delay then abort replies after the delay", async () => {
  const cfg = parseOk(faultFactory, {
    delay_duration: "10ms",
    delay_percent: 100,
    abort_status: 500,
    abort_percent: 100,
  });
  const cb = callbacks();
  const res = new FaultFilter(cfg, never).onRequestHeaders(cb);
  assert.equal(cb.replies.length, 0);
  assert.equal(await res, StreamFilterStatus.Stop);
  assert.deepEqual(cb.replies.map((r) => r.status), [500]);
  assert.equal(cb.info.flagsText(), "DI,FI");
});

Deno.test("fault: abort at 30% hits 30% ± 5% of 1000 requests with injected randomness", () => {
  const cfg = parseOk(faultFactory, { abort: { status: 500, percentage: 30 } });
  const { receiver } = faultFactory.prepare(cfg, { random: seededRandom(42) })();
  let aborted = 0;
  for (let i = 0; i < 1000; i++) {
    const cb = callbacks();
    if (receiver!.onRequestHeaders!(cb, true) === StreamFilterStatus.Stop) aborted++;
    assert.equal(cb.replies.length, cb.info.hasFlag("FI") ? 1 : 0);
  }
  assert.ok(aborted >= 250 && aborted <= 350, `aborted ${aborted}`);
});

Deno.test("fault: the random draw decides (below the percentage aborts, at or above does not)", () => {
  const cfg = parseOk(faultFactory, { abort: { status: 500, percentage: 30 } });
  assert.equal(new FaultFilter(cfg, () => 0.2999).onRequestHeaders(callbacks()), 1);
  assert.equal(new FaultFilter(cfg, () => 0.3).onRequestHeaders(callbacks()), 0);
});

Deno.test("fault: upstream_cluster and headers restrict which requests get faults", () => {
  const cfg = parseOk(faultFactory, {
    abort: { status: 500, percentage: 100 },
    upstream_cluster: "backend",
    headers: [{ name: "x-user", value: "^b.b$", regex: true }, { name: "method", value: "POST" }],
  });
  const f = new FaultFilter(cfg, never);
  const routed = (cluster: string, method: string, headers: Record<string, string>) => {
    const info = new StreamInfo();
    info.upstreamCluster = cluster;
    info.method = method;
    return f.onRequestHeaders(callbacks(headers, info));
  };
  assert.equal(routed("backend", "POST", { "X-User": "bob" }), StreamFilterStatus.Stop);
  assert.equal(routed("other", "POST", { "X-User": "bob" }), StreamFilterStatus.Continue);
  assert.equal(routed("backend", "GET", { "X-User": "bob" }), StreamFilterStatus.Continue);
  assert.equal(routed("backend", "POST", { "X-User": "alice" }), StreamFilterStatus.Continue);
  assert.equal(routed("backend", "POST", {}), StreamFilterStatus.Continue);
});
