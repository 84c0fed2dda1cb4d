/** The mosn.ts version, reported by `mosn version`, /api/v1/version and /server_info. */
export const VERSION = "0.1.0";
