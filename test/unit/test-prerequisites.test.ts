/** scripts/test-prerequisites.sh, when it may not install: it names every missing program and fails. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/test-prerequisites.sh');

describe('test-prerequisites.sh', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(path.join(tmpdir(), 'eastwatch-prereq-'));
    // PATH holds only what the script's cd needs and one peer found on the real PATH (java).
    for (const prog of ['dirname', 'java']) {
      const found = spawnSync('bash', ['-c', `command -v ${prog}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, path.join(bin, prog));
    }
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('names each missing program and the command that installs it, and exits non-zero', () => {
    const r = spawnSync('/bin/bash', [SCRIPT], { env: { PATH: bin, EASTWATCH_NO_INSTALL: '1' }, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    // softflowd and squid may sit in /usr/sbin (then named as off PATH); the others are missing outright.
    for (const prog of ['mvn', 'tshark', 'softflowd', 'squid', 'openssl', 'promtool', 'prometheus', 'prometheus-alertmanager', 'chromium']) {
      expect(r.stderr).toMatch(new RegExp(`^  ${prog} `, 'm'));
    }
    expect(r.stderr).toMatch(/apt-get install -y maven tshark .*prometheus prometheus-alertmanager chromium$/m);
    expect(r.stderr).not.toContain('java');
    expect(r.stdout).toBe('');
  });
});
