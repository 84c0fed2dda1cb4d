/** `GET /`: the console when built, else `GET /help`: a minimal HTML menu of the endpoints. */

import type { AdminContext } from "../http.ts";
import { text } from "../http.ts";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** The console's index.html, or the menu (with a hint) when console/dist/ is missing. */
export async function consolePage(ctx: AdminContext): Promise<Response> {
  const page = await ctx.console?.assets.serve(ctx.request, "/");
  if (page) return page;
  return menu(ctx, "<p>The console is not built: run <code>./deno task build</code>.</p>");
}

export function indexPage(ctx: AdminContext): Response {
  return menu(ctx, "");
}

function menu(ctx: AdminContext, note: string): Response {
  const rows = ctx.routes.filter((r) => r.path !== "/" && r.path !== "/help").map((r) => {
    const path = escapeHtml(r.path);
    const link = r.method === "GET" ? `<a href="${path}">${path}</a>` : path;
    return `<tr><td>${r.method}</td><td>${link}</td><td>${escapeHtml(r.description)}</td></tr>`;
  });
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>mosn.ts admin</title></head>
<body><h1>mosn.ts admin ${escapeHtml(ctx.source.version)}</h1>
${note}
<table>
${rows.join("\n")}
</table></body></html>
`;
  return text(html, 200, "text/html; charset=utf-8");
}
