/**
 * API tokens: `eastwatch tokens create` makes one, shows it once and keeps only its SHA-256 in a file of the
 * home directory (mode 0600, replaced atomically); the API re-reads the file when it changes, so a token
 * created or revoked takes effect within a second without a restart, and without the CLI having to open the
 * embedded ClickHouse the running process holds. A token is `ewt_<id>_<secret>`: the id finds the entry,
 * the 256-bit secret is compared by hash in constant time (a secret that random needs no slow hash).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError, zodDetail } from '../core/error-text';

/** viewer reads; analyst also triages and suppresses; admin also replaces the inventory and manages feeds. */
export const API_ROLES = ['viewer', 'analyst', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export const roleAtLeast = (have: ApiRole, need: ApiRole): boolean => API_ROLES.indexOf(have) >= API_ROLES.indexOf(need);

const TokenEntrySchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  name: z.string().min(1).max(64),
  role: z.enum(API_ROLES),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime().optional(),
});
export type TokenEntry = z.infer<typeof TokenEntrySchema>;

const TokenFileSchema = z.strictObject({ version: z.literal(1), tokens: z.array(TokenEntrySchema).max(10_000) });

const TOKEN = /^ewt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Who a valid token belongs to. */
export interface Principal {
  tokenId: string;
  name: string;
  role: ApiRole;
}

export function readTokens(file: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const parsed = TokenFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UserError(`${file}: not an eastwatch token file: ${zodDetail(parsed.error, '(file)', 3)}`);
  return parsed.data.tokens;
}

function writeTokens(file: string, tokens: TokenEntry[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Makes a token and stores its hash; the token itself is returned once and kept nowhere. */
export function createToken(file: string, o: { name: string; role: ApiRole; expiresAt?: number }, now = Date.now()): { token: string; entry: TokenEntry } {
  const tokens = readTokens(file);
  if (tokens.some((t) => t.name === o.name)) throw new UserError(`a token named ${o.name} exists: revoke it first, or pick another name`);
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const entry = TokenEntrySchema.parse({
    id, name: o.name, role: o.role, sha256: sha256(secret).toString('hex'), created_at: new Date(now).toISOString(),
    ...(o.expiresAt !== undefined ? { expires_at: new Date(o.expiresAt).toISOString() } : {}),
  });
  writeTokens(file, [...tokens, entry]);
  return { token: `ewt_${id}_${secret}`, entry };
}

/** Removes a token by id or name; false when there is none. */
export function revokeToken(file: string, idOrName: string): boolean {
  const tokens = readTokens(file);
  const kept = tokens.filter((t) => t.id !== idOrName && t.name !== idOrName);
  if (kept.length === tokens.length) return false;
  writeTokens(file, kept);
  return true;
}

/** The API's view of the token file, re-read when its modification time or size changes (checked once a second). */
export class TokenVerifier {
  private byId = new Map<string, TokenEntry>();
  private stamp = '';
  private checkedAt = 0;

  constructor(private readonly file: string, private readonly now: () => number = Date.now) {
    this.reload();
  }

  private reload(): void {
    let stamp = 'absent';
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      // No file: no tokens yet.
    }
    if (stamp === this.stamp) return;
    this.byId = new Map(readTokens(this.file).map((t) => [t.id, t]));
    this.stamp = stamp;
  }

  /** The principal of a presented token, or undefined when it is not a live token. */
  verify(token: string): Principal | undefined {
    const now = this.now();
    if (now - this.checkedAt >= 1000) {
      this.checkedAt = now;
      try {
        this.reload();
      } catch {
        // A file caught mid-edit by hand: keep the tokens last read until it parses again.
      }
    }
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    const entry = this.byId.get(m[1]!);
    if (!entry || !timingSafeEqual(sha256(m[2]!), Buffer.from(entry.sha256, 'hex'))) return undefined;
    if (entry.expires_at && Date.parse(entry.expires_at) <= now) return undefined;
    return { tokenId: entry.id, name: entry.name, role: entry.role };
  }
}
