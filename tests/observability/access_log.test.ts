import assert from "node:assert/strict";
import { MosnError } from "../../src/common/errors.ts";
import { AccessLog, parseAccessLogFormat } from "../../src/observability/access_log.ts";
import { StreamInfo } from "../../src/stream/stream_info.ts";

function info(code: number, path = "/"): StreamInfo {
  const i = new StreamInfo();
  i.method = "GET";
  i.path = path;
  i.protocol = "HTTP/1.1";
  i.responseCode = code;
  i.durationMs = 3;
  return i;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mosn_access_log_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("access log: log() returns before writing; close() flushes to the file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/logs/access.log`; // missing directory is created
    const al = new AccessLog({ path, format: "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%" });
    al.log(info(200, "/a"));
    al.log(info(404, "/b"));
    assert.equal(await Deno.readTextFile(path), "", "nothing written synchronously");
    await al.close();
    assert.equal(await Deno.readTextFile(path), "GET /a 200\nGET /b 404\n");
    assert.equal(al.written, 2);
    assert.equal(al.dropped, 0);
  });
});

Deno.test("access log: the file is appended to, and lines logged after close are dropped", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/access.log`;
    await Deno.writeTextFile(path, "old line\n");
    const al = new AccessLog({ path, format: "%RESPONSE_CODE%\n" });
    al.log(info(201));
    await al.close();
    al.log(info(500));
    assert.equal(al.dropped, 1);
    assert.equal(await Deno.readTextFile(path), "old line\n201\n");
  });
});

Deno.test("access log: many lines go out in few writes", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/access.log`;
    const al = new AccessLog({ path, format: "%REQ(:PATH)% %RESPONSE_CODE% %DURATION%" });
    const N = 10_000;
    for (let n = 0; n < N; n++) al.log(info(200, `/item/${n}`));
    await al.close();
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines.length, N);
    assert.equal(lines[0], "/item/0 200 3");
    assert.equal(lines[N - 1], `/item/${N - 1} 200 3`);
    assert.ok(al.writes <= 10, `${al.writes} writes for ${N} lines`);
  });
});

Deno.test("access log: a batch is written after the flush interval without close()", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/access.log`;
    const al = new AccessLog({ path, format: "%RESPONSE_CODE%", flushIntervalMs: 20 });
    try {
      al.log(info(200));
      const deadline = performance.now() + 2000;
      while ((await Deno.readTextFile(path)) === "" && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(await Deno.readTextFile(path), "200\n");
      assert.equal(al.writes, 1);
    } finally {
      await al.close();
    }
  });
});

Deno.test("access log: when the queue is full, lines are dropped and counted", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/access.log`;
    // each line is "200\n" (4 units); the queue holds 10 of them
    const al = new AccessLog({ path, format: "%RESPONSE_CODE%", maxBufferBytes: 40 });
    for (let n = 0; n < 25; n++) al.log(info(200));
    assert.equal(al.dropped, 15);
    await al.close();
    assert.equal(await Deno.readTextFile(path), "200\n".repeat(10));
    assert.equal(al.written, 10);
  });
});

Deno.test("access log: accepts a compiled format; rejects a bad one with CONFIG_INVALID", async () => {
  await withTempDir(async (dir) => {
    const compiled = parseAccessLogFormat("%UPSTREAM_CLUSTER%");
    assert.ok(typeof compiled !== "string");
    const al = new AccessLog({ path: `${dir}/a.log`, format: compiled });
    assert.equal(al.format, compiled);
    al.log(new StreamInfo());
    await al.close();
    assert.equal(await Deno.readTextFile(`${dir}/a.log`), "-\n");
    assert.throws(
      () => new AccessLog({ path: `${dir}/b.log`, format: "%NOT_A_VARIABLE%" }),
      (e: unknown) =>
        e instanceof MosnError && e.code === "CONFIG_INVALID" && /%NOT_A_VARIABLE%/.test(e.message),
    );
  });
});

Deno.test("access log: the default format is used when none is given", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/access.log`;
    const al = new AccessLog({ path });
    al.log(info(200, "/x"));
    await al.close();
    assert.match(
      await Deno.readTextFile(path),
      /^\[\d{4}-.*Z\] "GET \/x HTTP\/1\.1" 200 - 0 0 3 "-" "-"\n$/,
    );
  });
});
