// Preloaded into a child process (node --require) by the listener tests: on SIGWINCH (SIGUSR2 would stop a
// Temporal worker), every listening server of the process gets an accept error the way Node delivers one,
// through the listening handle's onconnection callback with a libuv error code (EMFILE). The tests need it because libuv absorbs EMFILE
// itself when it can (it closes a reserved descriptor and drops the waiting connection), so a low
// descriptor limit alone shows a refused connection but not the error event that used to end the process.
import net from 'node:net';
import os from 'node:os';

const listening = new Set<net.Server>();
const proto = net.Server.prototype as unknown as { listen: (...args: unknown[]) => net.Server };
const listen = proto.listen;
proto.listen = function (this: net.Server, ...args: unknown[]) {
  listening.add(this);
  return listen.apply(this, args);
};

process.on('SIGWINCH', () => {
  for (const server of listening) {
    const handle = (server as unknown as { _handle?: { onconnection?: (status: number) => void } })._handle;
    handle?.onconnection?.call(handle, -os.constants.errno.EMFILE);
  }
});
