/**
 * A sofa-rpc-node RpcServer bound to 127.0.0.1 with a tap on every connection, shared by the
 * bolt (sofa.ts) and dubbo (dubbo.ts) providers. The protocol module (sofa-bolt-node or
 * dubbo-remoting) is plugged in; the tap splits the received bytes into frames by header only,
 * so tests can see what arrived on the wire (oneway flags, heartbeats, raw bytes).
 */

import net from "node:net";
import { Buffer } from "node:buffer";
import sofaRpc from "sofa-rpc-node";
import { quietLogger, type RpcLogger } from "./logger.ts";

// deno-lint-ignore no-explicit-any
export type Any = any;
// deno-lint-ignore no-explicit-any
export type AsyncFn = (...args: any[]) => Promise<unknown>;

type Ctor = new (options: Any) => Any;
const RpcServer = sofaRpc.server.RpcServer as Ctor;
const RpcConnection = sofaRpc.server.RpcConnection as Ctor;

/** What the tap needs to know about a frame. */
export interface TappedFrame {
  requestId: number;
  /** A request that expects no response. */
  oneway: boolean;
  /** A heartbeat request (answered by the server). */
  heartbeat: boolean;
  raw: Uint8Array;
}

/** Splits whole frames off `buf`. */
export type FrameSplitter<F extends TappedFrame> = (buf: Buffer) => { frames: F[]; rest: Buffer };

/** One call the server handled (oneway ones included). */
export interface RpcServerCall {
  /** The server signature (interface:version). */
  service: string;
  method: string;
  args: unknown[];
  /** Whether the request was oneway on the wire. */
  oneway: boolean;
}

export interface RpcPeerServer<F extends TappedFrame> {
  readonly port: number;
  /** "127.0.0.1:port" */
  readonly address: string;
  /** Requests the server has handled, in arrival order. */
  readonly calls: RpcServerCall[];
  /** Every frame the server received, all connections, in arrival order. */
  readonly frames: F[];
  /** Heartbeats the server has received (and answered). */
  readonly heartbeats: number;
  /** Open connections. */
  readonly connections: number;
  /** What the server logged. */
  readonly logger: RpcLogger;
  close(): Promise<void>;
}

export interface TappedServerOptions<F extends TappedFrame> {
  /** sofa-bolt-node or dubbo-remoting. */
  protocol: Any;
  split: FrameSplitter<F>;
  port?: number;
  /** Service version; default "1.0". */
  version?: string;
  /** interface name → async methods. */
  services: Record<string, Record<string, AsyncFn>>;
  /** Let the server answer oneway requests (sofa-rpc-node does; Java SOFARPC does not). */
  answerOneway?: boolean;
}

/**
 * RpcServer listening on 127.0.0.1 only, and without `graceful` (which would install
 * process-wide uncaughtException handlers).
 */
class LoopbackRpcServer extends RpcServer {
  _startServer(port: number): Any {
    const self = this as Any;
    const server = net.createServer();
    server.once("error", (err: Error) => self.emit("error", err));
    server.on("connection", (socket: net.Socket) => self._handleSocket(socket));
    server.listen(port, "127.0.0.1", () => {
      const real = (server.address() as net.AddressInfo).port;
      if (port === self.publishPort && port === 0) self.publishPort = real;
    });
    return server;
  }

  async start(): Promise<void> {
    const self = this as Any;
    if (self._started) return;
    self._started = true;
    for (const port of self.listenPorts) self._servers.push(self._startServer(port));
    await Promise.all(
      self._servers.map((s: net.Server) =>
        new Promise<void>((resolve, reject) => {
          if (s.listening) return resolve();
          s.once("listening", () => resolve());
          s.once("error", reject);
        })
      ),
    );
    self.ready(true);
  }
}

/** Starts the server and waits until it listens. */
export async function startTappedServer<F extends TappedFrame>(
  opts: TappedServerOptions<F>,
): Promise<RpcPeerServer<F>> {
  const logger = quietLogger();
  const calls: RpcServerCall[] = [];
  const frames: F[] = [];
  const onewayIds = new Set<number>();
  let heartbeats = 0;
  const answerOneway = opts.answerOneway ?? false;
  const split = opts.split;
  class TappedConnection extends RpcConnection {
    constructor(o: Any) {
      super(o);
      let pending = Buffer.alloc(0);
      // Ahead of the decoder, so a frame is recorded before its 'request' event fires.
      (o.socket as net.Socket).prependListener("data", (chunk: Buffer) => {
        const r = split(Buffer.concat([pending, chunk]));
        pending = Buffer.from(r.rest);
        for (const f of r.frames) {
          frames.push(f);
          if (f.oneway) onewayIds.add(f.requestId);
          if (f.heartbeat) heartbeats++;
        }
      });
    }
    send(req: Any, res: Any): Promise<Any> {
      if (!answerOneway && onewayIds.has(req.packetId)) {
        onewayIds.delete(req.packetId);
        return Promise.resolve({ meta: { data: null, size: 0, encodeRT: 0 } });
      }
      return super.send(req, res);
    }
  }
  const server = new LoopbackRpcServer({
    appName: "mosn-ts-test",
    logger,
    port: opts.port ?? 0,
    version: opts.version ?? "1.0",
    publishAddress: "127.0.0.1",
    protocol: opts.protocol,
    connectionClass: TappedConnection,
  }) as Any;
  server.on("error", (err: Error) => logger.error(err));
  server.on("request", ({ req }: Any) => {
    calls.push({
      service: req.data.serverSignature,
      method: req.data.methodName,
      args: req.data.args,
      oneway: onewayIds.has(req.packetId),
    });
  });
  for (const [name, methods] of Object.entries(opts.services)) {
    server.addService({ interfaceName: name }, methods);
  }
  await server.start();
  const port: number = server.publishPort;
  let closed = false;
  return {
    port,
    address: `127.0.0.1:${port}`,
    calls,
    frames,
    get heartbeats() {
      return heartbeats;
    },
    get connections() {
      return server._connections.size;
    },
    logger,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await Promise.all(
        server._servers.map((s: net.Server) =>
          new Promise<void>((resolve) => s.listening ? s.close(() => resolve()) : resolve())
        ),
      );
    },
  };
}
