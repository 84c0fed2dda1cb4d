/**
 * Bolt (SOFARPC's transport) frame layout, constants and per-frame fields. All integers are
 * big-endian.
 *
 * Bolt v1 request / oneway / heartbeat (22-byte header):
 * ```
 *  0      1      2             4      5                           9      10                         14
 *  +------+------+------+------+------+------+------+------+------+------+------+------+------+------+
 *  |proto | type |   cmdcode   | ver2 |         requestId         |codec |          timeout          |
 *  | 0x01 |1 / 2 | u16 0/1     |      |            u32            |      |         i32 (ms)          |
 *  +------+------+------+------+------+------+------+------+------+------+------+------+------+------+
 * 14             16             18                          22
 *  +------+------+------+------+------+------+------+------+-----------+-------------+-------------+
 *  |  classLen   |  headerLen  |        contentLen         |   class   | header map  |   content   |
 *  |     u16     |     u16     |            u32            | classLen  | headerLen   | contentLen  |
 *  +------+------+------+------+------+------+------+------+-----------+-------------+-------------+
 * ```
 * Bolt v1 response / heartbeat ack (20-byte header): as above with type 0 and the 4-byte timeout
 * replaced by `status u16`, so classLen sits at 12, headerLen at 14, contentLen at 16.
 *
 * Bolt v2 request (24-byte header): `ver1` follows proto and `switch` follows codec:
 * ```
 *  0      1      2      3             5      6                           10     11     12
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 *  |proto | ver1 | type |   cmdcode   | ver2 |         requestId         |codec |switch|
 *  | 0x02 |      |      |     u16     |      |            u32            |      |      |
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 * 12                          16            18            20                          24
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 *  |          timeout          |  classLen   |  headerLen  |        contentLen         |
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 *  | class | header map | content | CRC32 (u32, only when switch & 0x01) |
 * ```
 * Bolt v2 response (22-byte header): status u16 at 12 in place of the timeout; classLen at 14,
 * headerLen at 16, contentLen at 18. The CRC32 (IEEE) trailer covers every byte before it
 * (header, class, header map, content).
 *
 * Header map: repeated `u32 keyLen | key | u32 valueLen | value` (UTF-8); a length of 0xFFFFFFFF
 * means null. A null value decodes as "" and its name is kept in `BoltMeta.nullHeaders` so it
 * re-encodes as null; a null key is rejected (BAD_FIELD).
 *
 * Frame kinds: type 1 + cmdcode 1 = request, type 2 + cmdcode 1 = oneway, type 0 + cmdcode 2 =
 * response, cmdcode 0 with type 1 (or 2) = heartbeat, cmdcode 0 with type 0 = heartbeat ack.
 */

export const BOLT_V1_PROTO = 0x01;
export const BOLT_V2_PROTO = 0x02;

/** The `type` byte. */
export const BoltType = { RESPONSE: 0, REQUEST: 1, ONEWAY: 2 } as const;

/** The `cmdcode` field. */
export const BoltCmdCode = { HEARTBEAT: 0, REQUEST: 1, RESPONSE: 2 } as const;

/** `codec` byte values. */
export const BoltCodec = { HESSIAN: 0, HESSIAN2: 1, PROTOBUF: 11, JSON: 12 } as const;

/** The bit of the v2 `switch` byte that appends a CRC32 trailer. */
export const BOLT_SWITCH_CRC = 0x01;

/** Response status codes (SOFA bolt `ResponseStatus`). */
export const BoltStatus = {
  SUCCESS: 0,
  ERROR: 1,
  SERVER_EXCEPTION: 2,
  UNKNOWN: 3,
  SERVER_THREADPOOL_BUSY: 4,
  ERROR_COMM: 5,
  NO_PROCESSOR: 6,
  TIMEOUT: 7,
  CLIENT_SEND_ERROR: 8,
  CODEC_EXCEPTION: 9,
  CONNECTION_CLOSED: 0x10,
  SERVER_SERIAL_EXCEPTION: 0x11,
  SERVER_DESERIAL_EXCEPTION: 0x12,
} as const;

/** Bolt fields that have no protocol-neutral home in `XFrame`. */
export interface BoltMeta {
  /** v2 `ver1` byte (protocol version); 0 for v1 frames, which have none. */
  ver1: number;
  /** `ver2` byte (command version), 1 in practice. */
  ver2: number;
  /** Serialization of class, and content (`BoltCodec`), 1 = hessian2. */
  codec: number;
  /** v2 `switch` byte (bit 0x01: CRC32 trailer); 0 for v1. */
  switchCode: number;
  /** Class name of the content, e.g. "com.alipay.sofa.rpc.core.request.SofaRequest"; "" if none. */
  className: string;
  /** Header names whose value was null on the wire (decoded as ""). */
  nullHeaders?: string[];
}

/** Byte offsets of one bolt version. */
export interface BoltLayout {
  proto: number;
  /** Offset of `type` (1 in v1, 2 in v2). */
  type: number;
  cmdCode: number;
  ver2: number;
  requestId: number;
  codec: number;
  /** Offset of `switch` (v2), -1 in v1. */
  switchCode: number;
  /** Offset of the timeout (requests) or status (responses). */
  timeoutOrStatus: number;
  requestHeaderBytes: number;
  responseHeaderBytes: number;
}

export const BOLT_V1_LAYOUT: BoltLayout = {
  proto: BOLT_V1_PROTO,
  type: 1,
  cmdCode: 2,
  ver2: 4,
  requestId: 5,
  codec: 9,
  switchCode: -1,
  timeoutOrStatus: 10,
  requestHeaderBytes: 22,
  responseHeaderBytes: 20,
};

export const BOLT_V2_LAYOUT: BoltLayout = {
  proto: BOLT_V2_PROTO,
  type: 2,
  cmdCode: 3,
  ver2: 5,
  requestId: 6,
  codec: 10,
  switchCode: 11,
  timeoutOrStatus: 12,
  requestHeaderBytes: 24,
  responseHeaderBytes: 22,
};
