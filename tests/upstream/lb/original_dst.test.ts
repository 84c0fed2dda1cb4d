/** LB_ORIGINAL_DST: the host is the original destination, made on demand by the cluster. */

import assert from "node:assert/strict";
import type { Address } from "../../../src/config/model.ts";
import { StatsRegistry } from "../../../src/observability/stats.ts";
import { ClusterImpl } from "../../../src/upstream/cluster.ts";
import { createBalancer, loadBalancers } from "../../../src/upstream/lb/registry.ts";
import type { Host } from "../../../src/upstream/types.ts";
import { clusterConfig, hostConfig } from "../_helpers.ts";

const DEST: Address = { kind: "tcp", host: "192.168.1.7", port: 8443 };

function originalDstCluster(): ClusterImpl {
  const config = clusterConfig("passthrough", [], "LB_ORIGINAL_DST", { type: "ORIGINAL_DST" });
  return new ClusterImpl(config, new StatsRegistry());
}

Deno.test("original dst: picks the cluster's on-demand host for the original destination", () => {
  const c = originalDstCluster();
  const lb = loadBalancers.get("LB_ORIGINAL_DST")!([], undefined, c.config, c);
  const h = lb.chooseHost({ originalDestination: DEST });
  assert.ok(h);
  assert.equal(h.addressText, "192.168.1.7:8443");
  assert.equal(h.cluster, c);
  // The same destination gives the same (cached) host.
  assert.equal(lb.chooseHost({ originalDestination: { ...DEST } }), h);
  assert.equal(c.dynamicHosts.get("192.168.1.7:8443"), h);
});

Deno.test("original dst: no original destination, or an excluded one, gives undefined", () => {
  const c = originalDstCluster();
  const lb = createBalancer([], undefined, c.config, c);
  assert.equal(lb.chooseHost(), undefined);
  assert.equal(lb.chooseHost({ hashKey: "x" }), undefined);
  const h = lb.chooseHost({ originalDestination: DEST })!;
  assert.equal(
    lb.chooseHost({ originalDestination: DEST, exclude: new Set<Host>([h]) }),
    undefined,
  );
});

Deno.test("original dst: without a cluster argument the hosts' cluster is used when it has one", () => {
  const c = new ClusterImpl(
    clusterConfig("od", [hostConfig("10.0.0.1:80")], "LB_ORIGINAL_DST"),
    new StatsRegistry(),
  );
  const lb = loadBalancers.get("LB_ORIGINAL_DST")!(c.hosts);
  assert.equal(lb.chooseHost({ originalDestination: DEST })?.addressText, "192.168.1.7:8443");
  // No hosts and no cluster: nothing to make hosts with.
  assert.equal(
    loadBalancers.get("LB_ORIGINAL_DST")!([]).chooseHost({ originalDestination: DEST }),
    undefined,
  );
});

Deno.test("original dst: health does not stop the pick (there is no other host)", () => {
  const c = originalDstCluster();
  const lb = createBalancer([], undefined, c.config, c);
  const h = lb.chooseHost({ originalDestination: DEST })!;
  h.setHealthFlag(2, true);
  assert.equal(lb.chooseHost({ originalDestination: DEST }), h);
});

Deno.test("original dst: lb_subset_config is ignored (hosts are not known in advance)", () => {
  const c = originalDstCluster();
  const config = {
    ...c.config,
    lbSubset: {
      fallBackPolicy: "NO_FALLBACK" as const,
      defaultSubset: {},
      subsetSelectors: [["v"]],
    },
  };
  const lb = createBalancer([], undefined, config, c);
  assert.equal(lb.chooseHost({ originalDestination: DEST })?.addressText, "192.168.1.7:8443");
});
