import assert from "node:assert/strict";
import {
  accessLogVariableNames,
  DEFAULT_ACCESS_LOG_FORMAT,
  parseAccessLogFormat,
} from "../../src/observability/access_log_format.ts";
import { goDuration, mosnStartTime } from "../../src/observability/access_log_time.ts";
import { HeaderMap } from "../../src/protocol/header_map.ts";
import { StreamInfo } from "../../src/stream/stream_info.ts";

function fmt(format: string, info: StreamInfo): string {
  const f = parseAccessLogFormat(format);
  if (typeof f === "string") throw new Error(f);
  return f.format(info);
}

function fullInfo(): StreamInfo {
  const i = new StreamInfo();
  i.protocol = "HTTP/1.1";
  i.method = "POST";
  i.path = "/api/v1/items?x=1";
  i.authority = "example.com";
  i.downstreamRemoteAddress = "10.0.0.9:40000";
  i.downstreamLocalAddress = "10.0.0.1:2045";
  i.downstreamPeerIdentity = "spiffe://cluster.local/ns/default/sa/web";
  i.requestHeaders = HeaderMap.from({ "User-Agent": "curl/8", "X-Foo": "foo" });
  i.responseHeaders = HeaderMap.from({ "X-Upstream-Time": "12", "Content-Type": "text/plain" });
  i.bytesReceived = 154;
  i.bytesSent = 226;
  i.responseCode = 204;
  i.routeName = "r1";
  i.upstreamCluster = "backend";
  i.upstreamHost = "10.0.2.1:80";
  i.upstreamLocalAddress = "10.0.0.1:51000";
  i.retries = 1;
  i.firstUpstreamByteMs = 80.25;
  i.durationMs = 100.5;
  i.setFlag("UF");
  i.setFlag("URX");
  return i;
}

Deno.test("access log format: Envoy command operators", () => {
  const i = fullInfo();
  const cases: [string, string][] = [
    ["%PROTOCOL%", "HTTP/1.1"],
    ["%RESPONSE_CODE%", "204"],
    ["%RESPONSE_FLAGS%", "UF,URX"],
    ["%BYTES_RECEIVED% %BYTES_SENT%", "154 226"],
    ["%DURATION%", "100"],
    ["%RESPONSE_DURATION% %RESPONSE_TX_DURATION%", "80 20"],
    ["%UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS%", "10.0.2.1:80 10.0.2.1:80"],
    ["%UPSTREAM_CLUSTER%", "backend"],
    ["%UPSTREAM_LOCAL_ADDRESS%", "10.0.0.1:51000"],
    ["%DOWNSTREAM_REMOTE_ADDRESS%", "10.0.0.9:40000"],
    ["%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.0.9"],
    ["%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%", "10.0.0.9:40000"],
    [
      "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%",
      "10.0.0.1:2045 10.0.0.1",
    ],
    ["%ROUTE_NAME%", "r1"],
    ["%DOWNSTREAM_PEER_URI_SAN%", "spiffe://cluster.local/ns/default/sa/web"],
    ["%UPSTREAM_REQUEST_ATTEMPT_COUNT%", "2"],
    ["%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)%", "POST /api/v1/items?x=1 example.com"],
    ["%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", "/api/v1/items?x=1"],
    ["%REQ(USER-AGENT)% %REQ(x-foo)%", "curl/8 foo"],
    ["%REQ(X-FOO):2%", "fo"],
    ["%RESP(X-UPSTREAM-TIME)% %RESP(:STATUS)% %RESP(content-type?x)%", "12 204 text/plain"],
    ["%START_TIME%", new Date(i.startTime).toISOString()],
  ];
  for (const [format, want] of cases) assert.equal(fmt(format, i), want, format);
});

Deno.test("access log format: MOSN variables", () => {
  const i = fullInfo();
  const cases: [string, string][] = [
    ["%protocol% %response_code%", "HTTP/1.1 204"],
    ["%bytes_sent% %bytes_received%", "226 154"],
    ["%duration%", "100.5ms"],
    ["%request_finished_duration%", "100.5ms"],
    ["%response_received_duration%", "80.25ms"],
    ["%response_flag% %response_flags%", "UF,URX UF,URX"],
    ["%upstream_local_address%", "10.0.0.1:51000"],
    ["%downstream_local_address%", "10.0.0.1:2045"],
    ["%downstream_remote_address%", "10.0.0.9:40000"],
    ["%upstream_host% %upstream_cluster% %route_name%", "10.0.2.1:80 backend r1"],
    ["%request_header_x-foo% %request_header_User-Agent%", "foo curl/8"],
    ["%response_header_content-type%", "text/plain"],
    [
      "%x-mosn-method% %x-mosn-host% %x-mosn-path% %x-mosn-querystring%",
      "POST example.com /api/v1/items x=1",
    ],
    ["%start_time%", mosnStartTime(i.startTime)],
    // known to MOSN but not tracked yet: printed as "-"
    ["%trace_id% %connection_id% %upstream_connection_id% %request_received_duration%", "- - - -"],
  ];
  for (const [format, want] of cases) assert.equal(fmt(format, i), want, format);
  assert.match(fmt("%start_time%", i), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{3}$/);
});

Deno.test("access log format: names are case-insensitive; all-lowercase picks MOSN's text", () => {
  const i = fullInfo();
  assert.equal(
    fmt("%Response_Code% %req(user-agent)% %Upstream_Cluster%", i),
    "204 curl/8 backend",
  );
  assert.equal(fmt("%DURATION% %Duration% %duration%", i), "100 100 100.5ms");
});

Deno.test("access log format: missing values print '-'", () => {
  const i = new StreamInfo();
  const f = "%PROTOCOL% %REQ(:METHOD)% %REQ(USER-AGENT)% %RESP(X-A)% %UPSTREAM_HOST% " +
    "%RESPONSE_FLAGS% %DURATION% %duration% %RESPONSE_DURATION% %DOWNSTREAM_PEER_URI_SAN% " +
    "%ROUTE_NAME% %request_header_x-foo% %UPSTREAM_CLUSTER%";
  assert.equal(fmt(f, i), "- - - - - - - - - - - - -");
  // numbers known to be zero print as numbers, as Envoy and MOSN do
  assert.equal(fmt("%RESPONSE_CODE% %BYTES_SENT% %UPSTREAM_REQUEST_ATTEMPT_COUNT%", i), "0 0 0");
  const f2 = parseAccessLogFormat("[%REQ(X-A)%]");
  assert.ok(typeof f2 !== "string");
  assert.equal(f2.format(i, ""), "[]");
});

Deno.test("access log format: START_TIME with a strftime format (UTC)", () => {
  const i = new StreamInfo();
  const d = new Date(i.startTime);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const want = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.` +
    `${p(d.getUTCMilliseconds(), 3)}Z ${Math.floor(i.startTime / 1000)}`;
  assert.equal(fmt("%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ %s)%", i), want);
  assert.equal(fmt("%START_TIME(%F %T)%", i), want.slice(0, 19).replace("T", " "));
  assert.equal(fmt("%START_TIME(%E3S|%6f)%", i), `${want.slice(17, 23)}|${want.slice(20, 23)}000`);
});

Deno.test("access log format: literal percent signs and plain text", () => {
  const i = fullInfo();
  assert.equal(fmt("100%% done \\% %RESPONSE_CODE%", i), "100% done % 204");
  assert.equal(fmt("no variables", i), "no variables");
  const f = parseAccessLogFormat("text only");
  assert.ok(typeof f !== "string");
  assert.equal(f.variableCount, 0);
});

Deno.test("access log format: bad formats give an error string", () => {
  const cases: [string, RegExp][] = [
    ["%NOPE%", /unknown access log variable %NOPE% at offset 0/],
    ["a %UPSTREAM_HOST", /unclosed variable at offset 2/],
    ["%REQ%", /%REQ% at offset 0: needs a header name/],
    ["%REQ()%", /needs a header name/],
    ["%REQ(A?B?C)%", /expected \(NAME\) or \(NAME\?FALLBACK\)/],
    ["%PROTOCOL(x)%", /%PROTOCOL% at offset 0: takes no argument/],
    ["%REQ(X-A%", /unclosed "\("/],
    ["%REQ(X-A):%", /expected a length after ":"/],
    ["50% off", /expected a variable name after "%" at offset 2/],
    ["%AB c%", /unclosed variable at offset 0/],
    ["% x%", /expected a variable name after "%" at offset 0/],
  ];
  for (const [format, want] of cases) {
    const r = parseAccessLogFormat(format);
    assert.equal(typeof r, "string", format);
    assert.match(r as string, want, format);
  }
});

Deno.test("access log format: the default format prints Envoy's default line", () => {
  const i = fullInfo();
  const line = fmt(DEFAULT_ACCESS_LOG_FORMAT, i);
  assert.equal(
    line,
    `[${new Date(i.startTime).toISOString()}] "POST /api/v1/items?x=1 HTTP/1.1" 204 UF,URX 154 ` +
      `226 100 "curl/8" "10.0.2.1:80"\n`,
  );
  assert.ok(accessLogVariableNames().includes("downstream_peer_uri_san"));
});

Deno.test("goDuration prints like Go's time.Duration.String()", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [0.0005, "500ns"],
    [0.85, "850µs"],
    [0.0015, "1.5µs"],
    [1.5, "1.5ms"],
    [100, "100ms"],
    [1500, "1.5s"],
    [62_500, "1m2.5s"],
    [3_600_000, "1h0m0s"],
    [3_723_000, "1h2m3s"],
    [-2, "-2ms"],
  ];
  for (const [ms, want] of cases) assert.equal(goDuration(ms), want, String(ms));
});
