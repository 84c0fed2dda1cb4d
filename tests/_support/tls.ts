/** TLS test helpers: the fixture PKI (tests/fixtures/tls, see gen.sh) and curl as the client. */

export const TLS_DIR = new URL("../fixtures/tls/", import.meta.url).pathname;
export const pki = (name: string): string => TLS_DIR + name;
export const pem = (name: string): string => Deno.readTextFileSync(TLS_DIR + name);

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl (20 s limit) and returns its exit code and output; never throws on failure. */
export async function curl(args: string[]): Promise<CurlResult> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "20", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `status: true` tls_context with the fixture's `name`.pem / `name`.key (file paths). */
export function serverTls(
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    status: true,
    cert_chain: pki(`${name}.pem`),
    private_key: pki(`${name}.key`),
    ...extra,
  };
}
