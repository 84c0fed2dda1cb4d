/**
 * Original destination (SO_ORIGINAL_DST, IP_TRANSPARENT) and use_original_dst listeners.
 *
 * The end-to-end tests build three network namespaces joined by veth pairs,
 *
 *   client ns 10.200.1.1 ── 10.200.1.2 proxy ns 10.200.2.1 ── 10.200.2.2 server ns (10.1.2.3 on lo)
 *
 * and divert the client's connections to 10.1.2.3 into mosn.ts in the proxy ns with iptables
 * (nat REDIRECT, or mangle TPROXY with policy routing). All traffic stays in these namespaces;
 * they are deleted afterwards. They need root, `ip` (iproute2) and `iptables`; without them the
 * tests are skipped with the reason printed.
 */

import assert from "node:assert/strict";
import { Listener } from "../../src/network/listener.ts";
import { connFd, decodeSockaddr, listeningFds } from "../../src/network/libc.ts";
import { isTransparent, originalDestination } from "../../src/network/original_dst.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const SCENARIO = new URL("./_original_dst_scenario.ts", import.meta.url).pathname;
const TARGET = "10.1.2.3";

// ---------------------------------------------------------------- environment

async function run(cmd: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const o = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdin: "null" }).output();
    const dec = new TextDecoder();
    return { ok: o.success, out: dec.decode(o.stdout), err: dec.decode(o.stderr).trim() };
  } catch (e) {
    return { ok: false, out: "", err: (e as Error).message };
  }
}

async function must(cmd: string[]): Promise<string> {
  const r = await run(cmd);
  if (!r.ok) throw new Error(`${cmd.join(" ")}: ${r.err}`);
  return r.out;
}

/** Why the namespace tests cannot run here (undefined: they can). */
async function probe(): Promise<{ netns?: string; tproxy?: string }> {
  if (Deno.build.os !== "linux") return { netns: "not Linux" };
  if (Deno.uid() !== 0) return { netns: "needs root (network namespaces, iptables)" };
  for (const [bin, pkg] of [["ip", "iproute2"], ["iptables", "iptables"]]) {
    const r = await run([bin!, "-V"]);
    if (!r.ok) return { netns: `${bin} not available (apt-get install ${pkg}): ${r.err}` };
  }
  const ns = `mosnts-probe-${Deno.pid}`;
  const add = await run(["ip", "netns", "add", ns]);
  if (!add.ok) return { netns: `cannot create a network namespace: ${add.err}` };
  try {
    const nat = await run([
      ..."ip netns exec".split(" "),
      ns,
      ..."iptables -t nat -A PREROUTING -p tcp -d 10.1.2.3 -j REDIRECT --to-ports 1".split(" "),
    ]);
    if (!nat.ok) return { netns: `iptables REDIRECT unavailable: ${nat.err}` };
    const tp = await run([
      ..."ip netns exec".split(" "),
      ns,
      ..."iptables -t mangle -A PREROUTING -p tcp -d 10.1.2.3 -j TPROXY --on-port 1 --tproxy-mark 1/1"
        .split(" "),
    ]);
    return tp.ok ? {} : { tproxy: `iptables TPROXY unavailable: ${tp.err}` };
  } finally {
    await run(["ip", "netns", "del", ns]);
  }
}

const why = await probe();
if (why.netns) console.log(`original_dst namespace tests skipped: ${why.netns}`);
else if (why.tproxy) console.log(`original_dst TPROXY test skipped: ${why.tproxy}`);

// ---------------------------------------------------------------- topology and processes

interface Topology {
  client: string;
  proxy: string;
  server: string;
}

let topoSeq = 0;

async function makeTopology(): Promise<Topology> {
  const base = `mosnts-${Deno.pid}-${++topoSeq}`;
  const t = { client: `${base}-c`, proxy: `${base}-p`, server: `${base}-s` };
  const ip = (ns: string, args: string) => must(["ip", "-n", ns, ...args.split(" ")]);
  for (const ns of Object.values(t)) {
    await must(["ip", "netns", "add", ns]);
    await ip(ns, "link set lo up");
  }
  // veth pairs are created inside the namespaces: nothing touches the host's interfaces.
  await must([
    "ip",
    "-n",
    t.client,
    ..."link add mc0 type veth peer name mp0 netns".split(" "),
    t.proxy,
  ]);
  await must([
    "ip",
    "-n",
    t.proxy,
    ..."link add mp1 type veth peer name ms1 netns".split(" "),
    t.server,
  ]);
  await ip(t.client, "addr add 10.200.1.1/24 dev mc0");
  await ip(t.client, "link set mc0 up");
  await ip(t.client, "route add default via 10.200.1.2");
  await ip(t.proxy, "addr add 10.200.1.2/24 dev mp0");
  await ip(t.proxy, "addr add 10.200.2.1/24 dev mp1");
  await ip(t.proxy, "link set mp0 up");
  await ip(t.proxy, "link set mp1 up");
  await ip(t.proxy, `route add ${TARGET}/32 via 10.200.2.2`);
  await ip(t.server, "addr add 10.200.2.2/24 dev ms1");
  await ip(t.server, `addr add ${TARGET}/32 dev lo`);
  await ip(t.server, "link set ms1 up");
  await ip(t.server, "route add default via 10.200.2.1");
  return t;
}

async function dropTopology(t: Topology): Promise<void> {
  for (const ns of Object.values(t)) await run(["ip", "netns", "del", ns]);
}

/** A scenario role running inside a namespace until its stdin is closed. */
class Role {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #drained: Promise<void>;
  #out = "";
  #err = "";
  #readyWaiters: (() => void)[] = [];

  constructor(ns: string, args: string[]) {
    this.#child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", SCENARIO, ...args],
      cwd: REPO,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const drain = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      const dec = new TextDecoder();
      for await (const chunk of s) onText(dec.decode(chunk, { stream: true }));
    };
    this.#drained = Promise.all([
      drain(this.#child.stdout, (t) => {
        this.#out += t;
        if (this.#out.includes("READY")) { for (const w of this.#readyWaiters.splice(0)) w(); }
      }),
      drain(this.#child.stderr, (t) => (this.#err += t)),
    ]).then(() => {});
  }

  async ready(ms = 20_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      new Promise<boolean>((r) => {
        if (this.#out.includes("READY")) r(true);
        else this.#readyWaiters.push(() => r(true));
      }),
      this.#child.status.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    if (!ok) throw new Error(`scenario did not get ready: ${this.#out}\n${this.#err}`);
  }

  get stderr(): string {
    return this.#err;
  }

  async stop(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch { /* exited */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
    ]);
    clearTimeout(timer);
    if (!exited) this.#child.kill("SIGKILL");
    await this.#child.status;
    await this.#drained;
  }
}

/** Runs the client role in `ns`; returns the bytes it got back. */
async function clientCall(ns: string, port: number, payload: string): Promise<string> {
  const r = await run([
    "timeout",
    "30",
    "ip",
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "-A",
    SCENARIO,
    "client",
    TARGET,
    String(port),
    payload,
  ]);
  assert.ok(r.ok, `client failed: ${r.out} ${r.err}`);
  return (JSON.parse(r.out.trim().split("\n").pop()!) as { text: string }).text;
}

/** Splits the client's bytes: the proxy's report line, the echo greeting, the echoed payload. */
function parseReply(text: string) {
  const [report, greeting, ...rest] = text.split("\n");
  return {
    report: JSON.parse(report!) as { listener: string; originalDestination: string; local: string },
    greeting,
    echoed: rest.join("\n"),
  };
}

function proxyListener(
  name: string,
  address: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    address,
    ...extra,
    filter_chains: [{
      filters: [
        { type: "report_dst", config: {} },
        { type: "tcp_proxy", config: { cluster: "original" } },
      ],
    }],
  };
}

async function writeConfig(listeners: Record<string, unknown>[]): Promise<string> {
  const doc = {
    servers: [{ default_log_level: "WARN", listeners }],
    cluster_manager: {
      clusters: [{
        name: "original",
        type: "ORIGINAL_DST",
        lb_type: "LB_ORIGINAL_DST",
        connect_timeout: "2s",
        // MOSN's examples list one placeholder host; the balancer ignores it.
        hosts: [{ address: "127.0.0.1:1" }],
      }],
    },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
  };
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(doc));
  return file;
}

// ---------------------------------------------------------------- unit tests (no namespaces)

Deno.test("original_dst: decodes sockaddr_in and sockaddr_in6", () => {
  const v4 = new Uint8Array(16);
  v4.set([2, 0, 0x23, 0x29, 10, 1, 2, 3]);
  assert.deepEqual(decodeSockaddr(v4), { kind: "tcp", host: "10.1.2.3", port: 9001 });
  const v6 = new Uint8Array(28);
  v6.set([10, 0, 0x01, 0xbb]);
  v6.set([0x20, 0x01, 0x0d, 0xb8], 8);
  v6[23] = 1;
  assert.deepEqual(decodeSockaddr(v6), { kind: "tcp", host: "2001:db8::1", port: 443 });
  const mapped = new Uint8Array(28);
  mapped.set([10, 0, 0, 80]);
  mapped.set([0xff, 0xff, 127, 0, 0, 1], 18);
  assert.deepEqual(decodeSockaddr(mapped), { kind: "tcp", host: "::ffff:127.0.0.1", port: 80 });
  assert.equal(decodeSockaddr(new Uint8Array(4)), undefined);
});

Deno.test("original_dst: accepted conn fd; not redirected = own local address", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const s = await l.accept();
  try {
    const fd = connFd(s);
    assert.ok(fd !== undefined && fd > 2, `fd ${fd}`);
    // Without NAT, SO_ORIGINAL_DST gives the local address, or fails without conntrack.
    const od = originalDestination(s);
    if (od) assert.deepEqual(od, { kind: "tcp", host: "127.0.0.1", port });
  } finally {
    s.close();
    c.close();
    l.close();
  }
});

Deno.test({
  name: "original_dst: a transparent listener has IP_TRANSPARENT set",
  ignore: Deno.uid() !== 0,
  fn() {
    const l = new Listener("t", { kind: "tcp", host: "127.0.0.1", port: 0 }, () => {}, {
      transparent: true,
    });
    l.bind();
    try {
      const fds = listeningFds({ host: "127.0.0.1", port: l.port });
      assert.equal(fds.length, 1);
      assert.ok(isTransparent(fds[0]!));
    } finally {
      l.close();
    }
    const plain = new Listener("p", { kind: "tcp", host: "127.0.0.1", port: 0 }, () => {});
    plain.bind();
    try {
      assert.ok(!isTransparent(listeningFds({ host: "127.0.0.1", port: plain.port })[0]!));
    } finally {
      plain.close();
    }
  },
});

Deno.test("original_dst: settings from use_original_dst and the original_dst listener filter", () => {
  const settings = (use: unknown, filterConfig?: unknown) => {
    const listener: Record<string, unknown> = {
      name: "l",
      address: "127.0.0.1:0",
      use_original_dst: use,
      filter_chains: [{ filters: [{ type: "tcp_proxy", config: { cluster: "c" } }] }],
    };
    if (filterConfig !== undefined) {
      listener.listener_filters = [{ type: "original_dst", config: filterConfig }];
    }
    const doc = {
      servers: [{ listeners: [listener] }],
      cluster_manager: { clusters: [{ name: "c", hosts: [{ address: "127.0.0.1:9" }] }] },
    };
    return parseConfig(doc, PARSE_OPTIONS).config.servers[0]!.listeners[0]!.originalDst;
  };
  assert.equal(settings(false), undefined);
  assert.deepEqual(settings(true), { mode: "redirect", fallbackToLocal: false });
  assert.deepEqual(settings("tproxy"), { mode: "tproxy", fallbackToLocal: false });
  assert.deepEqual(settings(true, { type: "tproxy" }), { mode: "tproxy", fallbackToLocal: false });
  assert.deepEqual(settings(true, { transparent_proxy: true }), {
    mode: "tproxy",
    fallbackToLocal: false,
  });
  assert.deepEqual(settings(true, { fallback_to_local: true }), {
    mode: "redirect",
    fallbackToLocal: true,
  });
  // MOSN: the listener filter does nothing unless use_original_dst is on.
  assert.equal(settings(false, { type: "tproxy" }), undefined);
  assert.throws(() => settings("sideways"), /use_original_dst: expected true, false/);
});

// ---------------------------------------------------------------- namespace tests

Deno.test({
  name: "original_dst: iptables REDIRECT, SO_ORIGINAL_DST and handoff to the matching listener",
  ignore: why.netns !== undefined,
  async fn() {
    const t = await makeTopology();
    const roles: Role[] = [];
    const files: string[] = [];
    try {
      await must([
        ..."ip netns exec".split(" "),
        t.proxy,
        ..."iptables -t nat -A PREROUTING -p tcp -d 10.1.2.3 -j REDIRECT --to-ports 15001"
          .split(" "),
      ]);
      const echo = new Role(t.server, ["echo", TARGET, "9001", "9002", "9003"]);
      roles.push(echo);
      const cfg = await writeConfig([
        proxyListener("redirect", "0.0.0.0:15001", { use_original_dst: true }),
        // Not bound (bind_port false): reached only by handoff, as in MOSN/Istio.
        proxyListener("any_9002", "0.0.0.0:9002", { bind_port: false }),
        proxyListener("any_9003", "0.0.0.0:9003", { bind_port: false }),
        proxyListener("exact_9003", `${TARGET}:9003`, { bind_port: false }),
      ]);
      files.push(cfg);
      const proxy = new Role(t.proxy, ["proxy", cfg]);
      roles.push(proxy);
      await echo.ready();
      await proxy.ready();

      // No listener for 9001: the redirect listener serves it itself.
      let r = parseReply(await clientCall(t.client, 9001, "hello 9001"));
      assert.deepEqual(r.report.listener, "redirect");
      assert.equal(r.report.originalDestination, `${TARGET}:9001`);
      assert.equal(r.report.local, "10.200.1.2:15001");
      assert.equal(r.greeting, `echo ${TARGET}:9001`);
      assert.equal(r.echoed, "hello 9001");

      // 0.0.0.0:9002 matches by port.
      r = parseReply(await clientCall(t.client, 9002, "hello 9002"));
      assert.equal(r.report.listener, "any_9002");
      assert.equal(r.report.originalDestination, `${TARGET}:9002`);
      assert.equal(r.greeting, `echo ${TARGET}:9002`);
      assert.equal(r.echoed, "hello 9002");

      // An exact ip:port match wins over 0.0.0.0:port.
      r = parseReply(await clientCall(t.client, 9003, "x*200000"));
      assert.equal(r.report.listener, "exact_9003");
      assert.equal(r.greeting, `echo ${TARGET}:9003`);
      assert.equal(r.echoed, "x".repeat(200_000));
    } finally {
      for (const r of roles) await r.stop();
      for (const f of files) await Deno.remove(f).catch(() => {});
      await dropTopology(t);
    }
  },
});

Deno.test({
  name: "original_dst: iptables TPROXY, IP_TRANSPARENT listener sees the original destination",
  ignore: why.netns !== undefined || why.tproxy !== undefined,
  async fn() {
    const t = await makeTopology();
    const roles: Role[] = [];
    const files: string[] = [];
    try {
      const inProxy = (args: string) => must(["ip", "netns", "exec", t.proxy, ...args.split(" ")]);
      await inProxy(
        "iptables -t mangle -A PREROUTING -p tcp -d 10.1.2.3 --dport 9001 -j TPROXY --on-port 15002 --tproxy-mark 0x1/0x1",
      );
      await inProxy("ip rule add fwmark 0x1/0x1 lookup 100");
      await inProxy("ip route add local 0.0.0.0/0 dev lo table 100");
      const echo = new Role(t.server, ["echo", TARGET, "9001"]);
      roles.push(echo);
      const cfg = await writeConfig([
        proxyListener("tproxy", "0.0.0.0:15002", {
          use_original_dst: true,
          listener_filters: [{ type: "original_dst", config: { type: "tproxy" } }],
        }),
      ]);
      files.push(cfg);
      const proxy = new Role(t.proxy, ["proxy", cfg]);
      roles.push(proxy);
      await echo.ready();
      await proxy.ready();

      const r = parseReply(await clientCall(t.client, 9001, "through tproxy"));
      assert.equal(r.report.listener, "tproxy");
      assert.equal(r.report.local, `${TARGET}:9001`);
      assert.equal(r.report.originalDestination, `${TARGET}:9001`);
      assert.equal(r.greeting, `echo ${TARGET}:9001`);
      assert.equal(r.echoed, "through tproxy");
    } finally {
      for (const r of roles) await r.stop();
      for (const f of files) await Deno.remove(f).catch(() => {});
      await dropTopology(t);
    }
  },
});
