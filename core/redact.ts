/** Secrets that hide inside ordinary values: the user:password@ of a URL. */

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** The text with the userinfo of every URL in it replaced by `***`. */
export const redactUrl = (text: string): string => text.replace(USERINFO, '$1***@');

/** A copy of plain data (objects, arrays, strings) with every URL's userinfo replaced. */
export function redactUrls<T>(value: T): T {
  if (typeof value === 'string') return redactUrl(value) as T;
  if (Array.isArray(value)) return value.map(redactUrls) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrls(v)])) as T;
  }
  return value;
}

/** An object literal (of any realm), not a class instance such as an Error whose fields are not enumerable. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}
