/** One-line descriptions of a route's match conditions and action, for the routes view. */

import type { RouteConfig, RouteMatchConfig } from "../../config/router_model.ts";

export function describeMatch(m: RouteMatchConfig): string {
  const parts: string[] = [];
  if (m.path !== undefined) parts.push(`path ${m.path}`);
  else if (m.prefix !== undefined) parts.push(`prefix ${m.prefix}`);
  else if (m.regex !== undefined) parts.push(`regex ${m.regex}`);
  else parts.push("any");
  if (m.caseSensitive === false) parts.push("(case-insensitive)");
  if (m.methods && m.methods.length > 0) parts.push(`method ${m.methods.join("|")}`);
  for (const h of m.headers) {
    const op = h.present !== undefined
      ? (h.present ? " present" : " absent")
      : (h.regex ? `~${h.value}` : `=${h.value}`);
    parts.push(`header ${h.invert ? "!" : ""}${h.name}${op}`);
  }
  for (const q of m.queryParameters) {
    const op = q.present !== undefined ? " present" : (q.regex ? `~${q.value}` : `=${q.value}`);
    parts.push(`query ${q.name}${op}`);
  }
  return parts.join(" ");
}

export function describeAction(r: RouteConfig): string {
  if (r.directResponse) return `direct_response ${r.directResponse.status}`;
  if (r.redirect) {
    const x = r.redirect;
    const to = [x.schemeRedirect, x.hostRedirect, x.pathRedirect, x.prefixRewrite]
      .filter((v) => v !== undefined && v !== "").join(" ");
    return `redirect ${r.redirect.responseCode}${to ? " " + to : ""}`;
  }
  const a = r.route;
  if (!a) return "none";
  const parts: string[] = [];
  if (a.weightedClusters.length > 0) {
    parts.push("weighted " + a.weightedClusters.map((w) => `${w.name}:${w.weight}`).join(" "));
  } else if (a.clusterHeader) parts.push(`cluster from header ${a.clusterHeader}`);
  else parts.push(`cluster ${a.clusterName}`);
  if (a.prefixRewrite !== undefined) parts.push(`rewrite ${a.prefixRewrite}`);
  if (a.hostRewrite !== undefined) parts.push(`host ${a.hostRewrite}`);
  if (a.timeoutMs > 0) parts.push(`timeout ${a.timeoutMs}ms`);
  if (a.retryPolicy && a.retryPolicy.numRetries > 0) {
    parts.push(`retries ${a.retryPolicy.numRetries} on ${a.retryPolicy.retryOn.join(",")}`);
  }
  return parts.join(", ");
}
