/**
 * Real Dubbo peers for tests, in-process under Deno on 127.0.0.1:
 * - `startDubboProvider`: sofa-rpc-node RpcServer + dubbo-remoting exposing com.test.HelloService
 *   (version 1.0) with sayHello(String) and plus(int, int).
 * - `dubbo2jsClient`: dubbo2.js DirectlyDubbo consumer.
 * - `dubboRemotingClient`: sofa-rpc-node RpcClient + dubbo-remoting consumer (direct mode).
 *
 * Known quirks of the real peers: dubbo-remoting writes malformed responses for falsy return
 * values (0, "", false, null), so keep test results truthy. The provider's service id is
 * "interface:version", so a consumer must send version "1.0" (the default here).
 */

import { Buffer } from "node:buffer";
import dubboRemoting from "dubbo-remoting";
import { DirectlyDubbo } from "dubbo2.js";
import { helloHandlers, javaArg, type SofaClient, sofaClient } from "./sofa.ts";
import {
  type Any,
  type AsyncFn,
  type RpcPeerServer,
  startTappedServer,
  type TappedFrame,
} from "./rpc_server.ts";

export const DUBBO_HELLO_SERVICE = "com.test.HelloService";
export const DUBBO_HELLO_VERSION = "1.0";

/** One dubbo frame a peer received, split by the 16-byte header only. */
export interface DubboWireFrame extends TappedFrame {
  flag: number;
  status: number;
  /** Request bit (0x80). */
  request: boolean;
  /** Event bit (0x20): heartbeat. */
  event: boolean;
}

/** Splits whole dubbo frames off `buf` (stops at anything without the 0xdabb magic). */
export function splitDubboFrames(buf: Buffer): { frames: DubboWireFrame[]; rest: Buffer } {
  const frames: DubboWireFrame[] = [];
  let off = 0;
  while (buf.length - off >= 16) {
    const b = buf.subarray(off);
    if (b[0] !== 0xda || b[1] !== 0xbb) break;
    const len = 16 + b.readUInt32BE(12);
    if (b.length < len) break;
    const flag = b[2] ?? 0;
    const request = (flag & 0x80) !== 0;
    const twoWay = (flag & 0x40) !== 0;
    const event = (flag & 0x20) !== 0;
    frames.push({
      flag,
      status: b[3] ?? 0,
      request,
      event,
      requestId: Number(b.readBigUInt64BE(4)),
      oneway: request && !twoWay && !event,
      heartbeat: request && event,
      raw: new Uint8Array(b.subarray(0, len)),
    });
    off += len;
  }
  return { frames, rest: buf.subarray(off) };
}

export type DubboProvider = RpcPeerServer<DubboWireFrame>;

export interface DubboProviderOptions {
  port?: number;
  /** Methods of com.test.HelloService; default sayHello(name) and plus(a, b). Must be async. */
  handlers?: Record<string, AsyncFn>;
  /** Further services (version 1.0): interface name → async methods. */
  services?: Record<string, Record<string, AsyncFn>>;
}

/** Starts a dubbo provider (sofa-rpc-node RpcServer with dubbo-remoting) on 127.0.0.1. */
export function startDubboProvider(opts: DubboProviderOptions = {}): Promise<DubboProvider> {
  return startTappedServer({
    protocol: dubboRemoting,
    split: splitDubboFrames,
    port: opts.port,
    version: DUBBO_HELLO_VERSION,
    services: { [DUBBO_HELLO_SERVICE]: opts.handlers ?? helloHandlers(), ...opts.services },
  });
}

export interface DubboCallOptions {
  /** Default "1.0". */
  version?: string;
  group?: string;
  /** ms; default 3000. */
  timeout?: number;
}

export interface DubboConsumer {
  /** Calls `method` of `service`; plain args are wrapped by `javaArg` (integer → int). */
  call(service: string, method: string, args: unknown[], opts?: DubboCallOptions): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * dubbo2.js DirectlyDubbo consumer on one connection to `address` ("127.0.0.1:port"). It sends
 * requests with dubbo version "2.0.2" unless told otherwise.
 */
export function dubbo2jsClient(
  opts: { address: string; dubboVersion?: string; timeoutSeconds?: number },
): DubboConsumer {
  const dubbo = DirectlyDubbo.from({
    dubboAddress: opts.address,
    dubboVersion: opts.dubboVersion ?? "2.0.2",
    dubboInvokeTimeout: opts.timeoutSeconds ?? 3,
  }) as Any;
  return {
    async call(service, method, args, o = {}) {
      const proxy = dubbo.proxyService({
        dubboInterface: service,
        version: o.version ?? DUBBO_HELLO_VERSION,
        group: o.group,
        timeout: o.timeout ?? 3000,
        methods: { [method]: (...a: unknown[]) => a.map(javaArg) },
      });
      const { res, err } = await proxy[method](...args);
      if (err) throw err;
      return res;
    },
    async close() {
      // No close() in dubbo2.js: stop its reconnects (retry 0) and destroy the socket.
      const worker = dubbo._socketWorker;
      worker._retry = 0;
      const socket = worker._socket;
      if (socket && !socket.destroyed) {
        const done = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.destroy();
        await done;
      }
      clearInterval(worker._heartBeatTimer);
    },
  };
}

/** sofa-rpc-node RpcClient with the dubbo-remoting protocol, direct to `address`. */
export function dubboRemotingClient(opts: { address: string }): DubboConsumer {
  const c: SofaClient = sofaClient({ address: opts.address, protocol: dubboRemoting });
  return {
    call: (service, method, args, o = {}) =>
      c.call(service, method, args, {
        version: o.version ?? DUBBO_HELLO_VERSION,
        timeout: o.timeout,
      }),
    close: () => c.close(),
  };
}
