/** A @grpc/grpc-js echo server and client (tests/proxy/grpc/echo.proto) for proxy tests. */

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Buffer } from "node:buffer";

const PROTO = new URL("../proxy/grpc/echo.proto", import.meta.url).pathname;

export interface Msg {
  text: string;
  n: number;
}

// grpc-js's generated client type is dynamic; this is the part the tests use.
export interface EchoClient extends grpc.Client {
  Unary(
    req: Msg,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Msg) => void,
  ): grpc.ClientUnaryCall;
  ServerStream(req: Msg, md?: grpc.Metadata): grpc.ClientReadableStream<Msg>;
  ClientStream(cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientWritableStream<
    Msg
  >;
  Bidi(): grpc.ClientDuplexStream<Msg, Msg>;
}

function service(): { svc: grpc.ServiceDefinition; ctor: grpc.ServiceClientConstructor } {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    mosn: { test: { Echo: grpc.ServiceClientConstructor } };
  };
  const ctor = pkg.mosn.test.Echo;
  return { svc: ctor.service, ctor };
}

export interface EchoServer {
  readonly port: number;
  readonly address: string;
  /** Calls the server saw cancelled by the client. */
  cancelled: number;
  close(): Promise<void>;
}

/**
 * Unary: "fail" → INVALID_ARGUMENT with custom trailers; "hang" → never answers; "unavailable"
 * → UNAVAILABLE (counted in `attempts`); else echoes with header and trailer metadata.
 * ServerStream: `n` messages. ClientStream: counts messages. Bidi: echoes each message.
 */
export async function startEchoServer(
  opts: {
    onCall?(md: grpc.Metadata): void;
    tls?: { cert: string; key: string; ca: string };
  } = {},
): Promise<EchoServer & { attempts: number }> {
  const { svc } = service();
  const server = new grpc.Server();
  const state = { cancelled: 0, attempts: 0 };
  server.addService(svc, {
    Unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      const text = call.request.text;
      state.attempts++;
      opts.onCall?.(call.metadata);
      call.on("cancelled", () => state.cancelled++);
      if (text === "hang") return;
      if (text === "unavailable" && state.attempts < 3) {
        cb({ code: grpc.status.UNAVAILABLE, details: "try again" });
        return;
      }
      if (text === "fail") {
        const md = new grpc.Metadata();
        md.set("x-detail", "why-it-failed");
        md.set("x-bin-bin", Buffer.from([0, 1, 2, 255]));
        cb({ code: grpc.status.INVALID_ARGUMENT, details: "bad input: ünïcode", metadata: md });
        return;
      }
      const head = new grpc.Metadata();
      head.set("x-echo", String(call.metadata.get("x-req")[0] ?? ""));
      call.sendMetadata(head);
      const trailer = new grpc.Metadata();
      trailer.set("x-trail", "done");
      cb(null, { text: `echo ${text}`, n: call.request.n }, trailer);
    },
    ServerStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      opts.onCall?.(call.metadata);
      call.on("cancelled", () => state.cancelled++);
      const total = call.request.n;
      if (total < 0) {
        // Endless, slowly: until the client cancels.
        let i = 0;
        const t = setInterval(() => {
          if (call.cancelled) return clearInterval(t);
          call.write({ text: "tick", n: i++ });
        }, 5);
        call.on("cancelled", () => clearInterval(t));
        return;
      }
      let i = 0;
      const pump = () => {
        while (i < total) {
          const ok = call.write({ text: "m", n: i++ });
          if (!ok) return void call.once("drain", pump);
        }
        call.end();
      };
      pump();
    },
    ClientStream(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      let count = 0;
      let sum = 0;
      call.on("data", (m: Msg) => {
        count++;
        sum += m.n;
      });
      call.on("end", () => cb(null, { text: `sum ${sum}`, n: count }));
    },
    Bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on("data", (m: Msg) => call.write({ text: m.text, n: m.n + 1 }));
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      opts.tls
        // A CA of our own: without one grpc-js passes the system roots as `ca`, and Deno's
        // node:tls then sends them all in the handshake (clients fail: message too large).
        ? grpc.ServerCredentials.createSsl(Buffer.from(opts.tls.ca), [{
          cert_chain: Buffer.from(opts.tls.cert),
          private_key: Buffer.from(opts.tls.key),
        }])
        : grpc.ServerCredentials.createInsecure(),
      (e, p) => e ? reject(e) : resolve(p),
    )
  );
  return Object.assign(state, {
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.forceShutdown();
        r();
      }),
  });
}

/**
 * An insecure (h2c) client, or one over TLS trusting `tls.ca` (PEM), optionally with a client
 * certificate; over TLS it sends SNI `tls.serverName` (Deno's node:tls refuses an IP as SNI).
 */
export function echoClient(
  port: number,
  tls?: { ca: string; serverName: string; cert?: string; key?: string },
): EchoClient {
  const { ctor } = service();
  const creds = tls
    ? grpc.credentials.createSsl(
      Buffer.from(tls.ca),
      tls.key ? Buffer.from(tls.key) : null,
      tls.cert ? Buffer.from(tls.cert) : null,
    )
    : grpc.credentials.createInsecure();
  const opts = tls ? { "grpc.ssl_target_name_override": tls.serverName } : {};
  return new ctor(`127.0.0.1:${port}`, creds, opts) as unknown as EchoClient;
}

export { grpc };
