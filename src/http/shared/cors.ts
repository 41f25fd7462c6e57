type OriginCallback = (err: Error | null, allow?: boolean) => void;

/**
 * `CORS_ORIGINS` entries: `*` (any origin), a full origin (`https://app.example.com`), or a bare host
 * (`localhost`) that allows that host on any scheme and port.
 */
export function corsOriginMatcher(
  entries: string[],
): boolean | ((origin: string | undefined, cb: OriginCallback) => void) {
  if (entries.includes('*')) return true;
  const exact = new Set(entries.filter((e) => e.includes('://')).map((e) => e.replace(/\/+$/, '')));
  const hosts = new Set(entries.filter((e) => !e.includes('://')).map((e) => e.toLowerCase()));
  return (origin, cb) => {
    if (!origin) return cb(null, false);
    if (exact.has(origin)) return cb(null, true);
    try {
      cb(null, hosts.has(new URL(origin).hostname.toLowerCase()));
    } catch {
      cb(null, false);
    }
  };
}
