/**
 * A real apache-dubbo-service (npm, from apache/dubbo-js) provider for tests, in-process under
 * Deno on 127.0.0.1. It exposes com.test.HelloService (version 1.0, groups "" and "SOFA") with
 * sayHello(String).
 *
 * Known quirks of this peer: it answers a heartbeat request with a non-standard frame (flag
 * 0x62: no response bit, two-way and event bits set; status 0; request id 0) — see
 * tests/protocol/xprotocol/golden/dubbo/apache_heartbeat_resp_NONSTANDARD_flag62_status0_id0.hex;
 * it counts primitive args wrongly, so stick to String arguments; keep results truthy.
 *
 * The library picks a random port in 20888-30000 and binds every interface, and needs a
 * registry (zookeeper or nacos). Here its `listen` is replaced before it runs (the constructor
 * defers it to process.nextTick) so it binds 127.0.0.1:0, and the registry is a no-op stub.
 */

import net from "node:net";
import { DubboService } from "apache-dubbo-service";
import { DUBBO_HELLO_SERVICE, DUBBO_HELLO_VERSION } from "./dubbo.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

export interface ApacheDubboProvider {
  /** "127.0.0.1:port" */
  address: string;
  port: number;
  /** Requests the service methods handled (heartbeats excluded). */
  calls: { method: string; args: unknown[] }[];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export interface ApacheDubboProviderOptions {
  /** Methods of com.test.HelloService; default sayHello(name) → "hello " + name. */
  methods?: Record<string, (...args: Any[]) => Promise<unknown> | unknown>;
  /** Groups the service is exposed under; default "" (none) and "SOFA". */
  groups?: string[];
}

/** Starts an apache-dubbo-service provider on 127.0.0.1 (an ephemeral port). */
export async function startApacheDubboProvider(
  opts: ApacheDubboProviderOptions = {},
): Promise<ApacheDubboProvider> {
  const calls: { method: string; args: unknown[] }[] = [];
  const methods = opts.methods ?? {
    sayHello: (name: string) => `hello ${name}`,
  };
  // The library appends its context object to every call's arguments: drop it.
  const wrapped: Record<string, (...a: Any[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(methods)) {
    wrapped[name] = async (...a: Any[]) => {
      const args = a.slice(0, -1);
      calls.push({ method: name, args });
      return await fn(...args);
    };
  }
  const registry = {
    ready: () => Promise.resolve(),
    registerServices: () => Promise.resolve(),
    close: () => {},
  };
  const sockets = new Set<net.Socket>();
  let connections = 0;
  // The provider matches group exactly: one service entry per group (dubbo2.js sends none,
  // sofa-rpc-node + dubbo-remoting sends "SOFA").
  const groups = opts.groups ?? ["", "SOFA"];
  const services: Record<string, unknown> = {};
  for (const g of groups) {
    services[`HelloService#${g}`] = { dubboInterface: DUBBO_HELLO_SERVICE, methods: wrapped };
  }
  const svc: Any = DubboService.from({
    registry,
    dubboSetting: {
      getDubboSetting: ({ dubboServiceShortName }: { dubboServiceShortName: string }) => ({
        group: dubboServiceShortName.slice(dubboServiceShortName.indexOf("#") + 1),
        version: DUBBO_HELLO_VERSION,
      }),
    },
    services,
  } as Any); // stubs, not the library's registry and DubboSetting classes
  // Replaces the library's listen (random port, all interfaces); runs on process.nextTick.
  svc.listen = () => {
    const server = net.createServer(svc.handleSocketRequest);
    server.on("connection", (s: net.Socket) => {
      connections++;
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    server.on("error", (err: Error) => svc.reject(err));
    server.listen(0, "127.0.0.1", () => {
      svc.port = (server.address() as net.AddressInfo).port;
      svc.registerServices();
    });
    svc.server = server;
    return Promise.resolve();
  };
  await svc.ready();
  const port: number = svc.port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    calls,
    get connections() {
      return connections;
    },
    async close() {
      const closing: Promise<void>[] = [];
      for (const s of sockets) {
        closing.push(new Promise<void>((resolve) => s.once("close", () => resolve())));
        s.destroy();
      }
      await Promise.all(closing);
      await svc.close();
    },
  };
}
