import assert from "node:assert/strict";
import type {
  LogLevelResponse,
  StatesResponse,
  StatsDump,
  UpdateLogLevelResponse,
  VersionResponse,
} from "../../src/admin/types.ts";
import { withAdmin } from "./_harness.ts";
import { RAW_CONFIG } from "./_fake_source.ts";

Deno.test("GET /api/v1/stats answers type → namespace → metric with exact counter values", async () => {
  await withAdmin(async ({ src, get }) => {
    src.cluster.stats.connectionTotal.inc(5);
    src.cluster.hosts[0]!.stats.connectionTotal.inc(2);
    src.stats.scope("downstream", { listener: "egress_listener", proxy: "global" })
      .counter("connection_total").inc(3);
    const { res, body } = await get("/api/v1/stats");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    const dump = JSON.parse(body) as StatsDump;
    assert.deepEqual(Object.keys(dump), ["downstream", "upstream"]);
    assert.equal(
      dump["downstream"]!["listener.egress_listener.proxy.global"]!["connection_total"],
      "3",
    );
    assert.equal(dump["upstream"]!["cluster.c1"]!["connection_total"], "5");
    assert.equal(dump["upstream"]!["cluster.c1.host.127.0.0.1:8080"]!["connection_total"], "2");
    assert.equal(dump["upstream"]!["cluster.c1.host.127.0.0.1:8081"]!["connection_total"], "0");
    for (const namespaces of Object.values(dump)) {
      for (const metrics of Object.values(namespaces)) {
        for (const v of Object.values(metrics)) assert.equal(typeof v, "string");
      }
    }
  });
});

Deno.test("GET /api/v1/stats?type=downstream keeps only that type", async () => {
  await withAdmin(async ({ get }) => {
    const dump = JSON.parse((await get("/api/v1/stats?type=downstream")).body) as StatsDump;
    assert.deepEqual(Object.keys(dump), ["downstream"]);
    const both = JSON.parse((await get("/api/v1/stats?type=downstream,upstream")).body);
    assert.deepEqual(Object.keys(both), ["downstream", "upstream"]);
  });
});

Deno.test("GET /api/v1/config_dump answers the raw document and its sections", async () => {
  await withAdmin(async ({ get }) => {
    assert.deepEqual(JSON.parse((await get("/api/v1/config_dump")).body), RAW_CONFIG);
    assert.deepEqual(JSON.parse((await get("/api/v1/config_dump?mosnconfig")).body), RAW_CONFIG);
    const clusters = JSON.parse((await get("/api/v1/config_dump?allclusters")).body);
    assert.deepEqual(Object.keys(clusters), ["c1"]);
    assert.deepEqual(clusters.c1, RAW_CONFIG.cluster_manager.clusters[0]);
    const listeners = JSON.parse((await get("/api/v1/config_dump?alllisteners")).body);
    assert.deepEqual(Object.keys(listeners), ["egress_listener"]);
    const routers = JSON.parse((await get("/api/v1/config_dump?allrouters")).body);
    assert.deepEqual(Object.keys(routers), ["r1"]);
    const one = await get("/api/v1/config_dump?cluster=c1");
    assert.equal(one.res.status, 200);
    assert.equal(JSON.parse(one.body).name, "c1");

    const missing = await get("/api/v1/config_dump?cluster=nope");
    assert.equal(missing.res.status, 404);
    assert.match(JSON.parse(missing.body).error, /no cluster named "nope"/);
    const two = await get("/api/v1/config_dump?allclusters&allrouters");
    assert.equal(two.res.status, 400);
    assert.match(JSON.parse(two.body).error, /at most one parameter/);
    const unknown = await get("/api/v1/config_dump?everything");
    assert.equal(unknown.res.status, 400);
    assert.match(JSON.parse(unknown.body).error, /unknown config_dump parameter "everything"/);
  });
});

Deno.test("GET /api/v1/states answers the state by name, pid and uptime", async () => {
  await withAdmin(async ({ src, get }) => {
    const body = JSON.parse((await get("/api/v1/states")).body) as StatesResponse;
    assert.deepEqual(body, { state: "RUNNING", pid: Deno.pid, uptime_seconds: 42 });
    src.currentState = "DRAINING";
    assert.equal(JSON.parse((await get("/api/v1/states")).body).state, "DRAINING");
  }, { now: () => 1_000_000 + 42_900 });
});

Deno.test("GET /api/v1/version answers the version and runtime", async () => {
  await withAdmin(async ({ get }) => {
    const body = JSON.parse((await get("/api/v1/version")).body) as VersionResponse;
    assert.equal(body.version, "9.9.9-test");
    assert.equal(body.runtime.deno, Deno.version.deno);
  });
});

Deno.test("update_loglevel applies the level to the Logger; get_loglevel reports it", async () => {
  await withAdmin(async ({ src, get }) => {
    const before = JSON.parse((await get("/api/v1/get_loglevel")).body) as LogLevelResponse;
    assert.deepEqual(before, { log_level: "INFO", loggers: { default: "INFO" } });

    const { res, body } = await get("/api/v1/update_loglevel", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ log_level: "DEBUG" }),
    });
    assert.equal(res.status, 200);
    const answer = JSON.parse(body) as UpdateLogLevelResponse;
    assert.deepEqual(answer, {
      message: "update logger success",
      log_level: "DEBUG",
      previous_log_level: "INFO",
    });
    assert.equal(src.logger.level, "DEBUG");
    assert.ok(src.logger.enabled("DEBUG"));
    assert.equal(JSON.parse((await get("/api/v1/get_loglevel")).body).log_level, "DEBUG");

    // MOSN's body may carry log_path; lower case is accepted too
    const lower = await get("/api/v1/update_loglevel", {
      method: "POST",
      body: JSON.stringify({ log_path: "/var/log/mosn/default.log", log_level: "error" }),
    });
    assert.equal(lower.res.status, 200);
    assert.equal(src.logger.level, "ERROR");
  });
});

Deno.test("update_loglevel refuses bad levels and bodies with 400 and a clear message", async () => {
  await withAdmin(async ({ src, get }) => {
    const post = (body: string) => get("/api/v1/update_loglevel", { method: "POST", body });
    const loud = await post(JSON.stringify({ log_level: "LOUD" }));
    assert.equal(loud.res.status, 400);
    assert.equal(
      JSON.parse(loud.body).error,
      'unknown log_level "LOUD"; expected one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE',
    );
    const notJson = await post("log_level=DEBUG");
    assert.equal(notJson.res.status, 400);
    assert.match(JSON.parse(notJson.body).error, /body is not JSON/);
    const noLevel = await post("{}");
    assert.equal(noLevel.res.status, 400);
    assert.match(JSON.parse(noLevel.body).error, /"log_level" must be a string/);
    const array = await post("[]");
    assert.equal(array.res.status, 400);
    const huge = await post(JSON.stringify({ log_level: "DEBUG", pad: "x".repeat(70_000) }));
    assert.equal(huge.res.status, 413);
    assert.equal(src.logger.level, "INFO");
  });
});

Deno.test("GET on update_loglevel is 405 with Allow: POST", async () => {
  await withAdmin(async ({ src, get }) => {
    const { res, body } = await get("/api/v1/update_loglevel");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    assert.match(JSON.parse(body).error, /GET not allowed on \/api\/v1\/update_loglevel/);
    assert.equal(src.logger.level, "INFO");
  });
});
