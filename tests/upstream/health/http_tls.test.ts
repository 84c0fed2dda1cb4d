import https from "node:https";
import type { AddressInfo } from "node:net";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import type { HostImpl } from "../../../src/upstream/host.ts";
import { startHealthChecker } from "../../../src/upstream/health/health_checker.ts";
import { pem } from "../../_support/tls.ts";
import { hcConfig, makeTlsCluster, waitFor } from "./_helpers.ts";

Deno.test("http health check on a TLS cluster speaks TLS (SNI, CA) to the host", async () => {
  let status = 503;
  const server = https.createServer(
    { cert: pem("b.pem"), key: pem("b.key") },
    (_req, res) => {
      res.statusCode = status;
      res.end("x");
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const stats = new StatsRegistry();
  const cluster = makeTlsCluster(stats, [`127.0.0.1:${port}`], "tls");
  const host = cluster.hosts[0] as HostImpl;
  const hc = startHealthChecker(
    cluster,
    hcConfig({ protocol: "http", intervalMs: 50, unhealthyThreshold: 1, healthyThreshold: 1 }),
    { stats },
  );
  try {
    await waitFor(() => !host.healthy, 3000, "unhealthy on 503");
    status = 200;
    await waitFor(() => host.healthy, 3000, "healthy on 200 over TLS");
  } finally {
    hc.close();
    cluster.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
