/**
 * L4 proxy: connects each downstream connection to a host of the selected cluster and copies
 * bytes both ways. Zero-copy (writeLent) with backpressure from the read loop; half-close is
 * forwarded; a reset on one side resets the other.
 */

import type { TcpProxyConfig } from "../../../config/model.ts";
import { log } from "../../../common/logger.ts";
import { type Connection, FilterStatus, type ReadFilter } from "../../../network/connection.ts";
import { connectionRegistry } from "../../../network/connection_registry.ts";
import type { Host } from "../../../upstream/types.ts";
import type { FilterDeps } from "../types.ts";
import { selectCluster } from "./route.ts";

/** Forwards one direction: bytes read on one connection are written to the other. */
class Forwarder implements ReadFilter {
  readonly #to: Connection;
  constructor(to: Connection) {
    this.#to = to;
  }
  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    if (endStream) {
      this.#to.closeWrite();
      return FilterStatus.Stop;
    }
    return this.#to.writeLent(data);
  }
}

export class TcpProxy implements ReadFilter {
  readonly #cfg: TcpProxyConfig;
  readonly #down: Connection;
  readonly #deps: FilterDeps;
  #up: Connection | undefined;
  #early: Uint8Array | undefined;

  constructor(cfg: TcpProxyConfig, down: Connection, deps: FilterDeps) {
    this.#cfg = cfg;
    this.#down = down;
    this.#deps = deps;
    if (cfg.idleTimeoutMs > 0) down.setIdleTimeout(cfg.idleTimeoutMs);
  }

  onNewConnection(): FilterStatus {
    // Hold downstream bytes in the socket until the upstream is there.
    this.#down.readDisable(true);
    this.#connect().catch((e) => {
      log.error("tcp_proxy connect failed unexpectedly", { conn: this.#down.id, err: e });
      this.#down.close("now");
    });
    return FilterStatus.Stop;
  }

  onData(data: Uint8Array, endStream: boolean): FilterStatus | Promise<unknown> {
    const up = this.#up;
    if (!up) {
      // Bytes a protocol sniffer held before handing the connection over (reads are disabled
      // until connected, so nothing else arrives early): sent first once connected.
      if (data.byteLength > 0) this.#early = data.slice();
      return FilterStatus.Stop;
    }
    if (endStream) {
      up.closeWrite();
      return FilterStatus.Stop;
    }
    return up.writeLent(data);
  }

  async #connect(): Promise<void> {
    const down = this.#down;
    // A redirected connection is routed by where it was headed, as MOSN does.
    const od = down.originalDestination;
    const name = selectCluster(this.#cfg, {
      sourceHost: down.remoteHost,
      sourcePort: down.remotePort,
      destinationHost: od?.kind === "tcp" ? od.host : down.localHost,
      destinationPort: od?.kind === "tcp" ? od.port : down.localPort,
    });
    const cluster = this.#deps.clusterManager.get(name);
    if (!cluster) {
      log.warn("tcp_proxy: no cluster", { cluster: name, conn: down.id });
      down.close("now");
      return;
    }
    const tried = new Set<Host>();
    // ORIGINAL_DST clusters connect where the client was headed (REDIRECT/TPROXY), or else to
    // the address the client connected to.
    const originalDestination = down.originalDestination ??
      { kind: "tcp" as const, host: down.localHost, port: down.localPort };
    for (let attempt = 0; attempt < this.#cfg.maxConnectAttempts; attempt++) {
      const host = cluster.lb.chooseHost({ exclude: tried, originalDestination });
      if (!host) break;
      tried.add(host);
      let up: Connection;
      try {
        up = await cluster.connect(host);
      } catch (e) {
        log.debug("tcp_proxy upstream connect failed", { host: host.addressText, err: e });
        continue;
      }
      if (down.closed) {
        up.close("now");
        return;
      }
      this.#attach(up, host);
      return;
    }
    log.warn("tcp_proxy: no upstream connection", { cluster: name, attempts: tried.size });
    down.close("now");
  }

  #attach(up: Connection, host: Host): void {
    const down = this.#down;
    this.#up = up;
    connectionRegistry.describe(up, "TCP");
    host.activeRequests++;
    if (this.#cfg.idleTimeoutMs > 0) up.setIdleTimeout(this.#cfg.idleTimeoutMs);
    if (this.#early) {
      up.write(this.#early);
      this.#early = undefined;
    }
    up.addReadFilter(new Forwarder(down));
    up.onClose((reason) => {
      host.activeRequests--;
      down.close(reason === "reset" ? "now" : "flush", reason);
    });
    down.onClose((reason) => up.close(reason === "reset" ? "now" : "flush", reason));
    up.start();
    down.readDisable(false);
  }
}
