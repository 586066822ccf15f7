/** `npm ci` on the oldest Node the project declares installs nothing that declares a newer one. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

const ROOT = path.resolve(__dirname, '../..');

/** Every package under node_modules (nested ones too), with the Node versions it declares. */
function packages(dir: string): { name: string; node: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    if (entry.startsWith('.')) return [];
    const names = entry.startsWith('@') ? readdirSync(path.join(dir, entry)).map((n) => `${entry}/${n}`) : [entry];
    return names.flatMap((name) => {
      const manifest = path.join(dir, name, 'package.json');
      if (!existsSync(manifest)) return [];
      const { engines } = JSON.parse(readFileSync(manifest, 'utf8')) as { engines?: { node?: string } };
      return [...(engines?.node ? [{ name, node: engines.node }] : []), ...packages(path.join(dir, name, 'node_modules'))];
    });
  });
}

describe('engines', () => {
  it('has every installed package run on the oldest Node the project supports', () => {
    const { engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const oldest = semver.minVersion(engines.node)!.version;
    const found = packages(path.join(ROOT, 'node_modules'));
    expect(found.length).toBeGreaterThan(50);
    expect(found.filter((p) => !semver.satisfies(oldest, p.node)).map((p) => `${p.name} needs node ${p.node}`)).toEqual([]);
  });
});
