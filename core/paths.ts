/** Files eastwatch reads at run time from its own tree (protos, the example inventory). */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The directory holding package.json, from a file in the source tree (tests) or in dist/ (the build). */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** eastwatch's version, from its package.json (the OpenAPI document and exported findings carry it). */
export const productVersion = (): string => (JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
