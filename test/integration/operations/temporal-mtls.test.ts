// Temporal with mTLS: the worker (the SDK's native connection) and the client (gRPC in Node) connect through a
// TLS front that requires a client certificate, with the stack's CA as the server's and a server name other
// than the address's host, set by the Temporal CLI's variables or by a profile of its temporal.toml. A batch
// run over the real files proves both ends talk through it; a client without a certificate is refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { startMtlsProxy, type MtlsProxy } from '../../support/mtls-proxy';
import { CLIENT_CERT, CLIENT_KEY, opsAddress, readyz, STACK_CA } from '../../support/secure-stack';
import { workflowBundleFile } from '../../support/stream';

describe('Temporal over mTLS (client certificate, private CA, server name)', function () {
  this.timeout(300_000);
  const cfg = isolatedConfig('temporal-mtls');
  let proxy: MtlsProxy;
  let worker: RunningProcess | undefined;
  let dir: string;

  const mtlsEnv = (): Record<string, string> => ({
    TEMPORAL_ADDRESS: proxy.address,
    TEMPORAL_TLS_CLIENT_CERT_PATH: CLIENT_CERT,
    TEMPORAL_TLS_CLIENT_KEY_PATH: CLIENT_KEY,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: STACK_CA,
    // The front's certificate names localhost; the address is an IP.
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  const client = async (args: string[], env: Record<string, string>) => {
    const p = startEntryPoint('client.ts', cfg, args, env);
    return { code: await p.exited, output: p.output() };
  };

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    proxy = await startMtlsProxy(cfg.temporal.address);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-temporal-profile-'));
  });
  after(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await proxy?.close();
    await dropDatabase(cfg.databaseUrl);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the worker and the client run a batch through it; a client without a certificate is refused', async () => {
    worker = startEntryPoint('worker.ts', cfg, [], {
      ...mtlsEnv(),
      WORKFLOW_BUNDLE_PATH: await workflowBundleFile(),
    });
    await waitForOutput(worker, /worker: polling/, 120_000);
    const ready = await readyz(await opsAddress(worker));
    assert.equal(ready.status, 200, JSON.stringify(ready));

    // The client from a profile of the Temporal CLI's configuration file instead of variables.
    const profile = path.join(dir, 'temporal.toml');
    fs.writeFileSync(
      profile,
      [
        '[profile.museum]',
        `address = "${proxy.address}"`,
        `namespace = "${cfg.temporal.namespace}"`,
        '[profile.museum.tls]',
        `client_cert_path = "${CLIENT_CERT}"`,
        `client_key_path = "${CLIENT_KEY}"`,
        `server_ca_cert_path = "${STACK_CA}"`,
        'server_name = "localhost"',
        '',
      ].join('\n'),
    );
    // An empty TEMPORAL_ADDRESS is unset, so the profile's address is the one used.
    const batch = await client(['batch', 'run', '--source', `file://${SHARED_DATA}`, '--wait', '--json'], {
      TEMPORAL_ADDRESS: '',
      TEMPORAL_CONFIG_FILE: profile,
      TEMPORAL_PROFILE: 'museum',
    });
    assert.equal(batch.code, 0, batch.output);
    const lines = batch.output.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    assert.deepEqual([summary.read, summary.loaded, summary.rejected], [2137, 2079, 58]);

    const refusedBefore = proxy.refused();
    const {
      TEMPORAL_TLS_CLIENT_CERT_PATH: _c,
      TEMPORAL_TLS_CLIENT_KEY_PATH: _k,
      ...noCertificate
    } = mtlsEnv();
    const refused = await client(['schedule', 'describe'], noCertificate);
    assert.equal(refused.code, 1, refused.output);
    assert.ok(proxy.refused() > refusedBefore, 'the front refused the handshake');
  });
});
