/** `GET /`: a minimal HTML menu of the admin endpoints (the console replaces it later). */

import type { AdminContext } from "../http.ts";
import { text } from "../http.ts";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

export function indexPage(ctx: AdminContext): Response {
  const rows = ctx.routes.filter((r) => r.path !== "/").map((r) => {
    const path = escapeHtml(r.path);
    const link = r.method === "GET" ? `<a href="${path}">${path}</a>` : path;
    return `<tr><td>${r.method}</td><td>${link}</td><td>${escapeHtml(r.description)}</td></tr>`;
  });
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>mosn.ts admin</title></head>
<body><h1>mosn.ts admin ${escapeHtml(ctx.source.version)}</h1>
<table>
${rows.join("\n")}
</table></body></html>
`;
  return text(html, 200, "text/html; charset=utf-8");
}
