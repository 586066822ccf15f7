/** tshark as the tests' reference decoder: a capture on loopback that is live before anything is sent. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from './helpers';

/**
 * tshark capturing the given UDP ports on loopback into `file`, once its capture is live. "Capturing on" is no
 * proof (a fresh machine lost softflowd's first datagrams, the template): probe datagrams go to a port of their
 * own, in the filter too, until one is in the file. Neither decoder reads them as flow exports.
 */
export async function startCapture(file: string, ports: number[]): Promise<ChildProcess> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const probePort = probe.address().port;
  const marker = Buffer.from(`eastwatch capture probe ${randomUUID()}`);
  const filter = [...ports, probePort].map((p) => `udp port ${p}`).join(' or ');
  const tshark = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  tshark.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitFor(() => {
      if (tshark.exitCode !== null) throw new Error(`tshark exited: ${stderr}`);
      probe.send(marker, probePort, '127.0.0.1');
      return existsSync(file) && readFileSync(file).includes(marker) ? true : undefined;
    }, 30_000, () => `tshark's capture did not go live: ${stderr}`);
  } catch (e) {
    tshark.kill();
    throw e;
  } finally {
    probe.close();
  }
  return tshark;
}
