/**
 * Real SOFARPC (bolt) peers for tests, running in-process under Deno on 127.0.0.1:
 * - `startSofaServer`: a sofa-rpc-node RpcServer exposing HelloService (sayHello, plus).
 * - `sofaClient`: a sofa-rpc-node RpcClient in direct mode (`serverHost`), no heartbeats.
 * - `boltRawClient`: sofa-bolt-node's encoder/decoder on a plain node:net socket, for v1 / v2
 *   (+CRC) requests, oneway requests and heartbeats; it also records the raw bytes both ways.
 */

import net from "node:net";
import { Buffer } from "node:buffer";
import sofaRpc from "sofa-rpc-node";
import bolt from "sofa-bolt-node";
import { quietLogger, type RpcLogger } from "./logger.ts";
import {
  type Any,
  type AsyncFn,
  type RpcPeerServer,
  startTappedServer,
  type TappedFrame,
} from "./rpc_server.ts";

export { quietLogger, type RpcLogger };
export type { RpcPeerServer, RpcServerCall } from "./rpc_server.ts";

/** The interface the sofa server exposes (service id = interface + ":" + version). */
export const HELLO_SERVICE = "com.alipay.test.HelloService";
export const HELLO_VERSION = "1.0";
export const HELLO_SERVICE_ID = `${HELLO_SERVICE}:${HELLO_VERSION}`;

export interface SofaServerOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Methods of HelloService; defaults to sayHello(name) and plus(a, b). Must be async. */
  handlers?: Record<string, AsyncFn>;
  /** Further services: interface name (version 1.0) → async methods. */
  services?: Record<string, Record<string, AsyncFn>>;
  /** Reply to oneway requests as sofa-rpc-node does on its own (default false: no reply). */
  answerOneway?: boolean;
}

/** The default HelloService methods. */
export function helloHandlers(): Record<string, AsyncFn> {
  return {
    // deno-lint-ignore require-await
    sayHello: async (name: unknown) => "hello " + String(name),
    // deno-lint-ignore require-await
    plus: async (a: unknown, b: unknown) => Number(a) + Number(b),
  };
}

const { RpcClient } = sofaRpc.client;

/** One bolt frame a peer received, split by the frame header only (no body decoding). */
export interface BoltWireFrame extends TappedFrame {
  /** 1 or 2 (the first byte). */
  proto: number;
  /** 1 request, 0 response, 2 oneway. */
  type: number;
  /** 0 heartbeat, 1 request, 2 response. */
  cmdCode: number;
}

/** Splits whole bolt frames (v1, v2 ± CRC) off `buf`; returns the frames and the rest. */
export function splitBoltFrames(buf: Buffer): { frames: BoltWireFrame[]; rest: Buffer } {
  const frames: BoltWireFrame[] = [];
  let off = 0;
  for (;;) {
    const b = buf.subarray(off);
    const proto = b[0];
    if (proto !== 1 && proto !== 2) break;
    const v2 = proto === 2;
    const type = (v2 ? b[2] : b[1]) ?? -1;
    const isResp = type === 0;
    const hdr = (isResp ? 20 : 22) + (v2 ? 2 : 0);
    if (b.length < hdr) break;
    const at = v2 ? 2 : 0; // v2 has ver1 + switch: shift lengths by 2
    let len = isResp
      ? hdr + b.readInt16BE(12 + at) + b.readInt16BE(14 + at) + b.readInt32BE(16 + at)
      : hdr + b.readInt16BE(14 + at) + b.readInt16BE(16 + at) + b.readInt32BE(18 + at);
    if (v2 && b[11] === 1) len += 4;
    if (b.length < len) break;
    const cmdCode = b.readInt16BE(v2 ? 3 : 2);
    frames.push({
      proto,
      type,
      cmdCode,
      requestId: b.readUInt32BE(v2 ? 6 : 5),
      oneway: type === 2,
      heartbeat: cmdCode === 0 && type !== 0,
      raw: new Uint8Array(b.subarray(0, len)),
    });
    off += len;
  }
  return { frames, rest: buf.subarray(off) };
}

export type SofaServer = RpcPeerServer<BoltWireFrame>;

/** Starts a sofa-rpc-node RpcServer (bolt) on 127.0.0.1 exposing HelloService:1.0. */
export function startSofaServer(opts: SofaServerOptions = {}): Promise<SofaServer> {
  return startTappedServer({
    protocol: bolt,
    split: splitBoltFrames,
    port: opts.port,
    answerOneway: opts.answerOneway,
    services: { [HELLO_SERVICE]: opts.handlers ?? helloHandlers(), ...opts.services },
  });
}

/** Hessian2-typed argument: `{ $class: "int", $: 1 }`. Plain strings/numbers are also accepted. */
export interface JavaArg {
  $class: string;
  $: unknown;
}

/** Wraps a JS value as a hessian argument: string → java.lang.String, integer → int, … */
export function javaArg(v: unknown): JavaArg {
  if (v !== null && typeof v === "object" && "$class" in v) return v as JavaArg;
  if (typeof v === "string") return { $class: "java.lang.String", $: v };
  if (typeof v === "number") {
    return Number.isInteger(v) ? { $class: "int", $: v } : { $class: "double", $: v };
  }
  if (typeof v === "boolean") return { $class: "boolean", $: v };
  return { $class: "java.lang.Object", $: v };
}

export interface SofaCallOptions {
  /** Default 3000 ms. */
  timeout?: number;
  /** Default "1.0". */
  version?: string;
}

export interface SofaClient {
  /**
   * Invokes `method` of `service` (an interface name, version from opts) with hessian args
   * (plain values are wrapped by `javaArg`). Rejects with the server's error for an exception
   * response (err.message holds the server's message, err.resultCode its code).
   */
  call(
    service: string,
    method: string,
    args: unknown[],
    opts?: SofaCallOptions,
  ): Promise<unknown>;
  readonly logger: RpcLogger;
  close(): Promise<void>;
}

/**
 * A sofa-rpc-node RpcClient talking straight to `address` ("host:port"), no registry.
 * `protocol` defaults to sofa-bolt-node (bolt v1); dubbo.ts passes dubbo-remoting.
 */
export function sofaClient(opts: { address: string; protocol?: unknown }): SofaClient {
  const logger = quietLogger();
  const client = new RpcClient({ logger, protocol: opts.protocol ?? bolt }) as Any;
  client.on("error", (err: Error) => logger.error(err));
  return {
    logger,
    async call(service, method, args, o = {}) {
      const consumer = client.createConsumer({
        interfaceName: service,
        version: o.version ?? HELLO_VERSION,
        serverHost: opts.address,
      });
      await consumer.ready();
      return await consumer.invoke(method, args.map(javaArg), {
        responseTimeout: o.timeout ?? 3000,
      });
    },
    async close() {
      await client.close();
    },
  };
}

/** A decoded bolt packet (as sofa-bolt-node emits it). */
export interface BoltPacket {
  packetId: number;
  packetType: "response" | "heartbeat_ack" | "request" | "heartbeat";
  /** Response data: { isError, errorMsg, appResponse }. */
  data: Any;
  options: Any;
  meta: Any;
}

export interface BoltRawOptions {
  /** Bolt protocol: 1 (default) or 2. */
  version?: 1 | 2;
  /** With version 2: append a CRC32 (default true for v2). */
  crc?: boolean;
  host?: string;
}

export interface BoltRequestSpec {
  /** Service id, e.g. "com.alipay.test.HelloService:1.0". */
  service: string;
  method: string;
  args?: unknown[];
  timeout?: number;
}

export interface BoltRawClient {
  /** Sends a request and waits for the response with the same id. */
  call(req: BoltRequestSpec, id?: number): Promise<BoltPacket>;
  /** Sends a oneway request; resolves once written. */
  oneway(req: BoltRequestSpec, id?: number): Promise<void>;
  /** Sends a heartbeat and waits for its ack. */
  heartbeat(id?: number): Promise<BoltPacket>;
  /** Writes raw bytes (e.g. a golden frame). */
  writeRaw(bytes: Uint8Array): Promise<void>;
  /** Waits for the next packet with id `id` (any type). */
  next(id: number, timeoutMs?: number): Promise<BoltPacket>;
  /** Every packet received so far. */
  readonly received: BoltPacket[];
  /** Raw bytes written / read so far. */
  sentBytes(): Uint8Array;
  receivedBytes(): Uint8Array;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
  close(): Promise<void>;
}

/** Connects a raw bolt client (sofa-bolt-node codec over node:net) to `port`. */
export async function boltRawClient(port: number, o: BoltRawOptions = {}): Promise<BoltRawClient> {
  const sentReqs = new Map<number, Any>();
  const encoder = bolt.encoder({ sentReqs, classCache: new Map() }) as Any;
  const decoder = bolt.decoder({ sentReqs, classCache: new Map() }) as Any;
  const version = o.version ?? 1;
  if (version === 2) {
    encoder.protocolType = "bolt2";
    encoder.boltVersion = 2;
    encoder.crcEnable = o.crc ?? true;
  }
  const socket = net.connect(port, o.host ?? "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const sent: Buffer[] = [];
  const got: Buffer[] = [];
  const received: BoltPacket[] = [];
  const waiters = new Map<number, ((p: BoltPacket) => void)[]>();
  let closed = false;
  let decodeError: Error | undefined;
  const onPacket = (p: BoltPacket) => {
    received.push(p);
    const ws = waiters.get(p.packetId);
    const w = ws?.shift();
    if (w) w(p);
  };
  decoder.on("response", onPacket);
  decoder.on("heartbeat_ack", onPacket);
  decoder.on("request", onPacket);
  decoder.on("heartbeat", onPacket);
  decoder.on("error", (e: Error) => decodeError = e);
  encoder.on("data", (b: Buffer) => {
    sent.push(b);
    socket.write(b);
  });
  socket.on("data", (b: Buffer) => {
    got.push(b);
    decoder.write(b);
  });
  socket.on("error", () => {});
  socket.on("close", () => closed = true);

  let nextId = 1;
  const next = (id: number, timeoutMs = 3000) =>
    new Promise<BoltPacket>((resolve, reject) => {
      const have = received.find((p) => p.packetId === id && !claimed.has(p));
      if (have) {
        claimed.add(have);
        return resolve(have);
      }
      const t = setTimeout(() => {
        const list = waiters.get(id) ?? [];
        const i = list.indexOf(cb);
        if (i >= 0) list.splice(i, 1);
        reject(
          new Error(
            `bolt raw client: no packet with id ${id} within ${timeoutMs} ms` +
              (decodeError ? ` (decode error: ${decodeError.message})` : "") +
              (closed ? " (connection closed)" : ""),
          ),
        );
      }, timeoutMs);
      const cb = (p: BoltPacket) => {
        clearTimeout(t);
        claimed.add(p);
        resolve(p);
      };
      const list = waiters.get(id) ?? [];
      list.push(cb);
      waiters.set(id, list);
    });
  const claimed = new Set<BoltPacket>();
  const buildReq = (r: BoltRequestSpec, oneway: boolean) => ({
    serverSignature: r.service,
    methodName: r.method,
    args: (r.args ?? []).map(javaArg),
    timeout: r.timeout ?? 3000,
    oneway,
  });
  const write = (fn: (cb: (err?: Error | null) => void) => void) =>
    new Promise<void>((resolve, reject) => fn((err) => err ? reject(err) : resolve()));
  const concat = (parts: Buffer[]) => new Uint8Array(Buffer.concat(parts));

  return {
    async call(r, id = nextId++) {
      const req = buildReq(r, false);
      sentReqs.set(id, { req });
      const p = next(id, (r.timeout ?? 3000) + 500);
      await write((cb) => encoder.writeRequest(id, req, cb));
      try {
        return await p;
      } finally {
        sentReqs.delete(id);
      }
    },
    async oneway(r, id = nextId++) {
      await write((cb) => encoder.writeRequest(id, buildReq(r, true), cb));
    },
    async heartbeat(id = nextId++) {
      const p = next(id);
      await write((cb) => encoder.writeHeartbeat(id, { clientUrl: "mosn-ts-test" }, cb));
      return await p;
    },
    async writeRaw(bytes) {
      sent.push(Buffer.from(bytes));
      await new Promise<void>((resolve, reject) =>
        socket.write(bytes, (err) => err ? reject(err) : resolve())
      );
    },
    next,
    received,
    sentBytes: () => concat(sent),
    receivedBytes: () => concat(got),
    get closed() {
      return closed;
    },
    async close() {
      if (!socket.destroyed) {
        const done = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.destroy();
        await done;
      }
      encoder.destroy();
      decoder.destroy();
    },
  };
}
