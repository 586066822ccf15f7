/** A TCP client from a chosen loopback address (127.0.0.0/8 is all local), as an exporter's session looks to eastwatch. */
import * as net from 'node:net';

export interface TcpClient {
  sock: net.Socket;
  /** Set once the server closed or reset the connection. */
  state: { closed: boolean };
  write(b: Buffer): Promise<void>;
}

export async function connectFrom(localAddress: string, port: number): Promise<TcpClient> {
  const sock = net.connect({ host: '127.0.0.1', port, localAddress });
  const state = { closed: false };
  sock.on('close', () => (state.closed = true));
  sock.on('error', () => {}); // a reset by the server shows as closed
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return { sock, state, write: (b) => new Promise<void>((resolve) => sock.write(b, () => resolve())) };
}
