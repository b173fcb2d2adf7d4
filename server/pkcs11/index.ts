/**
 * `servePkcs11`: a PKCS#11 token served over p11-kit's RPC protocol (version 0)
 * on a Unix socket, so p11-kit's `p11-kit-client.so` (and through it
 * pkcs11-tool, OpenSSL's libp11 engine, Node's TLS with that engine, GnuTLS …)
 * reaches the broker's named keys and devices. docs/pkcs11.md has the protocol
 * and token facts.
 *
 * - Each connection is one Cryptoki instance (instance.ts): its own sessions,
 *   login state, find cursors and operations. Its requests are answered one at a
 *   time in arrival order; connections run concurrently, all through the same
 *   accelerator job queue (and so the same integrity gate) as every other path.
 * - Which keys a peer sees follows the named-key ACL (server/named-keys.ts) of
 *   its peer credentials (SO_PEERCRED through pcie-mmio/system).
 * - A malformed frame or message closes that connection only.
 */

import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { PeerCredentials } from 'pcie-mmio/system';
import type { Accelerator } from '../../index.js';
import { prepareSocketPath } from '../broker.js';
import type { NamedKey } from '../named-keys.js';
import { RpcFormatError } from './codec.js';
import { Cryptoki } from './instance.js';
import { errorReply } from './message.js';
import { type PinCheck, pinCheck } from './pin.js';
import { Token, type TokenConfig } from './token.js';
import { encodeFrame, FrameSplitter, PROTOCOL_VERSION } from './transport.js';

/** Requests read but not yet answered, and reply bytes not yet taken, before a connection stops being read. */
const MAX_WAITING = 256;
const MAX_UNREAD = 8 * 1024 * 1024;

/** What the token needs of an accelerator: its queue (an executor) and its devices (for the mechanisms). */
export type Pkcs11Accelerator = Pick<Accelerator, 'queue' | 'devices'>;

export interface Pkcs11ServerOptions {
  /** Socket path; default {@link defaultPkcs11Path}. */
  readonly path?: string;
  /** The accelerator whose job queue runs every operation; its devices' capabilities give the mechanisms. */
  readonly accelerator: Pkcs11Accelerator;
  /** The token's objects: the broker's named keys (RSA and P-256/384/521 keys are served). */
  readonly namedKeys: Iterable<NamedKey>;
  /** The user PIN; when set the token requires C_Login with it before private keys appear. */
  readonly pin?: string;
  /** Token label (default "pkaccel"). */
  readonly label?: string;
  /** Offer CKM_RSA_X_509 (raw RSA with the private key): off by default, see docs/pkcs11.md. */
  readonly allowRawRsa?: boolean;
  /** Group (gid) given the socket; its members may connect (the ACL still decides what they see). */
  readonly gid?: number;
  /** Peer credentials of a connection; default SO_PEERCRED through pcie-mmio/system. */
  readonly peerCredentials?: (socket: Socket) => PeerCredentials;
  /** One line per event (default: none). */
  readonly log?: (line: string) => void;
  /** Aborting closes the server, as `close()` does. */
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
}

export interface Pkcs11Server {
  readonly path: string;
  /** Connections open now. */
  connections(): number;
  /** Stop listening, close every connection (operations in flight are abandoned), remove the socket. */
  close(): Promise<void>;
}

/**
 * The default socket: p11-kit's own default address for the user
 * ($XDG_RUNTIME_DIR/p11-kit/pkcs11, so a client needs no P11_KIT_SERVER_ADDRESS);
 * /run/pkaccel/pkcs11 as root; /tmp/pkaccel-<uid>/pkcs11 without XDG_RUNTIME_DIR.
 */
export function defaultPkcs11Path(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) return '/run/pkaccel/pkcs11';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'p11-kit', 'pkcs11');
  return join('/tmp', `pkaccel-${uid}`, 'pkcs11');
}

async function defaultCredentials(
  log: (line: string) => void,
): Promise<((socket: Socket) => PeerCredentials) | undefined> {
  try {
    const system = await import('pcie-mmio/system');
    if (system.systemModuleStatus().loaded)
      return (socket) => system.peerCredentials(system.socketFd(socket));
    log('pkcs11: native system module not loaded: no peer credentials; the socket is owner-only (0600)');
  } catch (error) {
    log(
      `pkcs11: native system module unavailable (${(error as Error).message}); the socket is owner-only (0600)`,
    );
  }
  return undefined;
}

/** Start serving the token. Resolves once it listens. */
export async function servePkcs11(options: Pkcs11ServerOptions): Promise<Pkcs11Server> {
  const log = options.log ?? (() => {});
  const path = options.path ?? defaultPkcs11Path(options.env);
  options.signal?.throwIfAborted();
  const credentials = options.peerCredentials ?? (await defaultCredentials(log));
  const pin: PinCheck | undefined = options.pin === undefined ? undefined : pinCheck(options.pin);
  const config: TokenConfig = {
    label: options.label ?? 'pkaccel',
    allowRawRsa: options.allowRawRsa ?? false,
    loginRequired: pin !== undefined,
  };
  const token = new Token(options.accelerator, [...options.namedKeys], config);
  await prepareSocketPath(path, options.gid, log);

  const sockets = new Set<Socket>();
  let nextId = 1;
  let closing = false;
  const server: Server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    let peer: PeerCredentials = {
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
      pid: -1,
    };
    if (credentials) {
      try {
        peer = credentials(socket);
      } catch (error) {
        log(`pkcs11: refused a client: no peer credentials (${(error as Error).message})`);
        socket.destroy();
        return;
      }
    }
    const id = nextId++;
    sockets.add(socket);
    const who = `pkcs11 client ${id} (uid ${peer.uid} pid ${peer.pid})`;
    log(`${who} connected`);
    const instance = new Cryptoki(token, peer, pin, (line) => log(`${who}: ${line}`));
    const splitter = new FrameSplitter();
    let answered = false;
    // One request at a time, in arrival order: each waits for the previous one's reply.
    let chain: Promise<void> = Promise.resolve();
    // Back-pressure: a client that sends faster than it is answered, or does not read its
    // replies, stops being read until it catches up (its own connection only).
    let waiting = 0;
    const flow = () => {
      const behind = waiting > MAX_WAITING || socket.writableLength > MAX_UNREAD;
      if (behind && !socket.isPaused()) socket.pause();
      else if (!behind && socket.isPaused()) socket.resume();
    };
    const fail = (why: string) => {
      if (socket.destroyed) return;
      log(`${who}: closing: ${why}`);
      splitter.clear();
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: ReturnType<FrameSplitter['push']>;
      try {
        frames = splitter.push(chunk);
      } catch (error) {
        fail((error as Error).message);
        return;
      }
      if (!answered && splitter.clientVersion !== undefined) {
        answered = true;
        // p11-kit answers the lower of the two versions; this server has only 0.
        socket.write(Uint8Array.of(PROTOCOL_VERSION));
      }
      for (const frame of frames) {
        waiting++;
        chain = chain.then(async () => {
          waiting--;
          if (socket.destroyed) return;
          let body: Uint8Array;
          try {
            body = await instance.handle(frame.body);
          } catch (error) {
            if (error instanceof RpcFormatError) return fail(error.message);
            // A bug of ours in one call must not take the broker down: report it to that client.
            log(`${who}: internal error: ${(error as Error).stack ?? String(error)}`);
            body = errorReply(0x5);
          }
          if (!socket.destroyed) socket.write(encodeFrame(frame.code, body));
          flow();
        });
      }
      flow();
    });
    socket.on('drain', flow);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      splitter.clear();
      instance.close();
      log(`${who} left`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Without peer credentials the ACL cannot tell users apart: only the owner may connect.
  chmodSync(path, credentials ? 0o660 : 0o600);
  if (options.gid !== undefined) chownSync(path, -1, options.gid);
  server.on('error', (error) => log(`pkcs11 server error: ${error.message}`));
  log(`pkcs11: token "${config.label}" on ${path}: ${token.describe()}`);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await stopped;
      try {
        unlinkSync(path);
      } catch {}
      log('pkcs11: closed');
    })();
    return closed;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { path, connections: () => sockets.size, close };
}
