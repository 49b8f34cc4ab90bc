import assert from 'node:assert/strict';
import type http from 'node:http';
import { checkRequest, ConcurrencyLimit } from '../../infra/http-guard';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;

describe('HTTP request guard', () => {
  it('serves loopback hosts, with or without a port', () => {
    for (const host of ['127.0.0.1:8787', 'localhost:9464', '[::1]:8787', 'LOCALHOST', '127.0.0.1']) {
      assert.equal(checkRequest(req({ host })), undefined, host);
    }
  });

  it('refuses other hosts (DNS rebinding), look-alikes included, and a missing Host', () => {
    for (const host of ['evil.example:8787', '127.0.0.1.evil.example', 'localhost.evil:80', '[::2]:8787']) {
      assert.deepEqual(checkRequest(req({ host })), { status: 403, message: 'forbidden host' }, host);
    }
    assert.equal(checkRequest(req({}))?.status, 400);
  });

  it('accepts a same-origin Origin and refuses a cross-origin, null or non-web one', () => {
    const host = '127.0.0.1:8787';
    assert.equal(checkRequest(req({ host, origin: 'http://127.0.0.1:8787' })), undefined);
    for (const origin of [
      'http://evil.example',
      'http://127.0.0.1:8233', // another local service: same site, not the same origin
      'http://localhost:8787', // same machine, different origin
      'null',
      'file://',
      'not a url',
    ]) {
      assert.deepEqual(
        checkRequest(req({ host, origin })),
        { status: 403, message: 'forbidden origin' },
        origin,
      );
    }
  });

  it("with hosts 'any', checks only the Origin", () => {
    assert.equal(checkRequest(req({ host: '10.0.3.7:9464' }), { hosts: 'any' }), undefined);
    assert.equal(
      checkRequest(req({ host: '10.0.3.7:9464', origin: 'http://evil.example' }), { hosts: 'any' })?.status,
      403,
    );
    assert.equal(checkRequest(req({ host: 'kiosk.internal' }), { hosts: ['kiosk.internal'] }), undefined);
  });

  it('caps concurrent clients and frees a slot once per release', () => {
    const limit = new ConcurrencyLimit(2);
    const a = limit.tryAcquire();
    const b = limit.tryAcquire();
    assert.ok(a && b);
    assert.equal(limit.tryAcquire(), undefined);
    a();
    a(); // a second release of the same slot changes nothing
    assert.equal(limit.size, 1);
    assert.ok(limit.tryAcquire());
    assert.equal(limit.tryAcquire(), undefined);
    assert.throws(() => new ConcurrencyLimit(0));
  });
});
