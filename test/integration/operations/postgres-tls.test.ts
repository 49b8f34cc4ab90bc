// PostgreSQL as RDS runs it: TLS verified against a CA bundle (sslmode=verify-full through DATABASE_SSL_CA),
// as a role pg_hba.conf admits only over TLS (hostssl, scram-sha-256). The worker, the bridge, the client, the
// migrations and the dashboard run as processes over it; a CA that did not sign the server's certificate is a
// clear error naming DATABASE_SSL_CA.
import assert from 'node:assert/strict';
import pg from 'pg';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { opsAddress, OTHER_CA, PG_TLS_ROLE, readyz, STACK_CA } from '../../support/secure-stack';
import { workflowBundleFile } from '../../support/stream';

describe('PostgreSQL over TLS (verify-full, a hostssl-only role)', function () {
  this.timeout(300_000);
  const cfg = isolatedConfig('pg-tls');
  const tlsUrl = new URL(cfg.databaseUrl);
  tlsUrl.username = PG_TLS_ROLE.user;
  tlsUrl.password = PG_TLS_ROLE.password;
  const tlsEnv = (ca = STACK_CA) => ({ DATABASE_URL: tlsUrl.toString(), DATABASE_SSL_CA: ca });
  const processes: RunningProcess[] = [];
  const start = (script: string, args: string[], env: Record<string, string>) => {
    const p = startEntryPoint(script, cfg, args, env);
    processes.push(p);
    return p;
  };
  const run = async (script: string, args: string[], env: Record<string, string>) => {
    const p = start(script, args, env);
    return { code: await p.exited, output: p.output() };
  };

  before(async () => {
    // Created by the stack's admin role, owned by the TLS-only role: its migrations create the tables.
    await createDatabase(cfg.databaseUrl, false, `owner ${PG_TLS_ROLE.user}`);
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await dropDatabase(cfg.databaseUrl);
  });

  it('admits the role only over TLS', async () => {
    const client = new pg.Client({ connectionString: tlsUrl.toString() });
    await assert.rejects(client.connect(), /pg_hba\.conf rejects connection .* no encryption/);
    await client.end().catch(() => undefined);
  });

  it('migrations, worker, client, bridge and dashboard all connect; a batch run loads the real files', async () => {
    const migrate = await run('client.ts', ['db', 'migrate'], tlsEnv());
    assert.equal(migrate.code, 0, migrate.output);

    const bundle = await workflowBundleFile();
    const worker = start('worker.ts', [], { ...tlsEnv(), WORKFLOW_BUNDLE_PATH: bundle });
    const bridge = start('bridge/main.ts', [], tlsEnv());
    const dashboard = start('report/dashboard/server.ts', [], { ...tlsEnv(), DASHBOARD_PORT: '0' });
    await waitForOutput(worker, /worker: polling/, 120_000);
    await waitForOutput(dashboard, /dashboard listening on/, 120_000);

    const batch = await run(
      'client.ts',
      ['batch', 'run', '--source', `file://${SHARED_DATA}`, '--wait', '--json'],
      tlsEnv(),
    );
    assert.equal(batch.code, 0, batch.output);
    const lines = batch.output.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    assert.deepEqual([summary.read, summary.loaded, summary.rejected], [2137, 2079, 58]);

    // What the run stored, read back over the plain admin role: the TLS role wrote it.
    const admin = new pg.Client({ connectionString: cfg.databaseUrl });
    await admin.connect();
    try {
      const r = await admin.query<{ rows: number; rejects: number; ssl: boolean }>(
        `select (select count(*) from rating_interaction) + (select count(*) from request_interaction) as rows,
                (select count(*) from rejected_interaction) as rejects,
                (select bool_and(s.ssl) from pg_stat_ssl s join pg_stat_activity a using (pid)
                  where a.usename = $1) as ssl`,
        [PG_TLS_ROLE.user],
      );
      assert.deepEqual(r.rows[0], { rows: 2079, rejects: 58, ssl: true });
    } finally {
      await admin.end();
    }

    for (const p of [worker, bridge]) {
      const ready = await readyz(await opsAddress(p));
      assert.equal(ready.checks.postgres, 'ok', JSON.stringify(ready));
    }
    const rejects = await run('client.ts', ['rejects', 'list', '--limit', '1'], tlsEnv());
    assert.equal(rejects.code, 0, rejects.output);
  });

  it('a CA that did not sign the server certificate is a clear error naming DATABASE_SSL_CA', async () => {
    const named = /PostgreSQL's TLS certificate is not trusted \(.*\): DATABASE_SSL_CA must hold the CA/;
    const migrate = await run('client.ts', ['db', 'migrate'], tlsEnv(OTHER_CA));
    assert.equal(migrate.code, 1, migrate.output);
    assert.match(migrate.output, named);
    const dashboard = await run('report/dashboard/server.ts', [], {
      ...tlsEnv(OTHER_CA),
      DASHBOARD_PORT: '0',
    });
    assert.equal(dashboard.code, 1, dashboard.output);
    assert.match(dashboard.output, named);
    const worker = start('worker.ts', [], {
      ...tlsEnv(OTHER_CA),
      WORKFLOW_BUNDLE_PATH: await workflowBundleFile(),
    });
    const ready = await readyz(await opsAddress(worker));
    assert.equal(ready.status, 503);
    assert.match(ready.checks.postgres ?? '', named);
  });
});
