/**
 * "example": a minimal private RPC protocol showing that a new protocol is one folder plus one
 * line in `../registry.ts`. Big-endian, 10-byte header:
 * ```
 *  0      1                           5                           9      10
 *  +------+------+------+------+------+------+------+------+------+------+-----------+
 *  |magic |          length           |         requestId         | type |  payload  |
 *  | 0xEE |   u32 = payload bytes     |            u32            | u8   |  length   |
 *  +------+------+------+------+------+------+------+------+------+------+-----------+
 * ```
 * `type`: 0 request, 1 response. No headers, status, timeout or heartbeats on the wire: decoded
 * frames have empty headers, status 0 and timeout 0.
 */

export const EXAMPLE_MAGIC = 0xee;
export const EXAMPLE_HEADER_BYTES = 10;

/** The `type` byte. */
export const ExampleType = { REQUEST: 0, RESPONSE: 1 } as const;

/** The example protocol has no fields beyond `XFrame`'s. */
export type ExampleMeta = Record<string, never>;
