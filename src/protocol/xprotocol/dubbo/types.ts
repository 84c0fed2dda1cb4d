/**
 * Dubbo (dubbo2 TCP protocol) frame layout, constants and per-frame fields. Integers big-endian.
 *
 * 16-byte header, then `length` bytes of body:
 * ```
 *  0      1      2      3      4                                                     12
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 *  |    magic    | flag |status|                    requestId u64                      |
 *  | 0xda   0xbb |      |      |                                                       |
 *  +------+------+------+------+------+------+------+------+------+------+------+------+
 * 12                          16
 *  +------+------+------+------+--------------------------------------------------------+
 *  |        length u32         |                  body (length bytes)                   |
 *  +------+------+------+------+--------------------------------------------------------+
 *
 *  flag:  0x80 request | 0x40 two-way | 0x20 event (heartbeat) | low 5 bits serialization id
 *  status (responses only; 0 in requests): 20 OK, 30 client timeout, 31 server timeout,
 *         40 bad request, 50 bad response, 60 service not found, 70 service error,
 *         80 server error, 90 client error, 100 server threadpool exhausted
 * ```
 * Request body (hessian2, serialization id 2), values one after another:
 * ```
 *  dubbo version (string) | service path (string) | service version (string) | method (string) |
 *  parameter descriptor (string, JVM descriptors: "Ljava/lang/String;I[J") |
 *  one value per parameter | attachments (map string → string)
 * ```
 * Response body, status 20: response type (hessian int 0..5, see `DubboResponseType`), then the
 * value (types 1, 4) or the exception (0, 3), then attachments for types 3, 4, 5. Any other
 * status: one string, the error message. Event (heartbeat) bodies: `N` (hessian null).
 *
 * Frame kinds: request bit + event = heartbeat (two-way) / oneway (not two-way, e.g. a readonly
 * event); request bit alone = request (two-way) / oneway; no request bit + event = heartbeat_ack
 * (also the non-standard flag 0x62 / status 0 answer some peers send); otherwise response.
 *
 * Request ids are u64 on the wire and numbers here, exact up to 2^53 - 1; a larger id is
 * rejected with BAD_FIELD (Java and JS peers count up from 0, and the proxy re-stamps upstream
 * ids from a u32 counter).
 */

export const DUBBO_MAGIC_HI = 0xda;
export const DUBBO_MAGIC_LO = 0xbb;
export const DUBBO_HEADER_BYTES = 16;

/** Offsets inside the header. */
export const DubboOffset = { FLAG: 2, STATUS: 3, ID: 4, LENGTH: 12 } as const;

/** Bits of the flag byte. */
export const DubboFlag = {
  REQUEST: 0x80,
  TWO_WAY: 0x40,
  EVENT: 0x20,
  SERIALIZATION_MASK: 0x1f,
} as const;

/** Serialization ids (low 5 bits of the flag) this codec names; only hessian2 bodies are read. */
export const DubboSerialization = {
  HESSIAN2: 2,
  JAVA: 3,
  COMPACTED_JAVA: 4,
  FASTJSON: 6,
  NATIVE_JAVA: 7,
  KRYO: 8,
  FST: 9,
  PROTOSTUFF: 12,
  AVRO: 10,
  GSON: 16,
  PROTOBUF_JSON: 21,
} as const;

/** Response status byte. */
export const DubboStatus = {
  OK: 20,
  CLIENT_TIMEOUT: 30,
  SERVER_TIMEOUT: 31,
  BAD_REQUEST: 40,
  BAD_RESPONSE: 50,
  SERVICE_NOT_FOUND: 60,
  SERVICE_ERROR: 70,
  SERVER_ERROR: 80,
  CLIENT_ERROR: 90,
  SERVER_THREADPOOL_EXHAUSTED: 100,
} as const;

/** First value of a status-20 response body. */
export const DubboResponseType = {
  EXCEPTION: 0,
  VALUE: 1,
  NULL_VALUE: 2,
  EXCEPTION_WITH_ATTACHMENTS: 3,
  VALUE_WITH_ATTACHMENTS: 4,
  NULL_VALUE_WITH_ATTACHMENTS: 5,
} as const;

/** Header names the codec fills from the request body (MOSN's dubbo header names). */
export const DubboHeader = {
  SERVICE: "service",
  VERSION: "version",
  METHOD: "method",
  DUBBO: "dubbo",
  INTERFACE: "interface",
  GROUP: "group",
} as const;

/** Dubbo fields that have no protocol-neutral home in `XFrame`. */
export interface DubboMeta {
  /** The flag byte as on the wire (request / two-way / event bits and serialization id). */
  flag: number;
  /** Serialization id (`flag & 0x1f`), 2 = hessian2. */
  serialization: number;
  /** Event bit: heartbeat (or another event, such as readonly). */
  event: boolean;
  /**
   * Offset in `body` where the attachments map starts (hessian2 requests), -1 when unknown
   * (other serializations, events, responses). `encode` rewrites the body from here on when the
   * attachment headers changed.
   */
  attachmentsAt: number;
  /** The attachments as decoded (string pairs; see `Hessian2Reader.readStringMap`). */
  attachments: [string, string][];
  /**
   * Lower-cased names of headers the codec added from body fields that are not attachments
   * (e.g. `service`, `method`); left out when attachments are re-encoded.
   */
  synthetic: string[];
  /** Status-20 responses read as hessian2: the response type (`DubboResponseType`), else -1. */
  responseType: number;
  /** Non-20 responses: the error message, when readable. */
  errorMessage?: string;
  /** A body that could not be read (responses only; a bad request body is an error). */
  bodyError?: string;
}
