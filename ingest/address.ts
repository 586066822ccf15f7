/** IPv4 peers on a dual-stack socket, and IPv4 in some logs, appear as ::ffff:a.b.c.d; flows name them as plain IPv4. */
export const plainAddress = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
