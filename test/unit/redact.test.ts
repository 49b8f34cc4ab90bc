import assert from 'node:assert/strict';
import { redactUrl } from '../../infra/redact';

describe('redacting URLs for logs and errors', () => {
  it('masks a password holding @ whole, not from its first @', () => {
    assert.equal(redactUrl('postgres://u:p@ss@host/db'), 'postgres://u:***@host/db');
    assert.equal(
      redactUrl('postgres://kiosk:a:b@c@db.internal:5432/kiosk'),
      'postgres://kiosk:***@db.internal:5432/kiosk',
    );
  });

  it('masks secrets passed as query parameters, every occurrence, and keeps the rest', () => {
    const shown = redactUrl(
      'postgres://kiosk@host/db?sslmode=require&password=hunter2&sslpassword=x&password=again&application_name=k',
    );
    assert.equal(
      shown,
      'postgres://kiosk@host/db?sslmode=require&password=***&sslpassword=***&application_name=k',
    );
    assert.ok(!/hunter2|again/.test(shown));
    assert.equal(
      redactUrl('https://s3.example/b/k?X-Amz-Signature=abc&X-Amz-Credential=def&x=1'),
      'https://s3.example/b/k?X-Amz-Signature=***&X-Amz-Credential=***&x=1',
    );
  });

  it('leaves URLs without secrets as they are', () => {
    assert.equal(redactUrl('postgres://host/db'), 'postgres://host/db');
    assert.equal(redactUrl('postgres://kiosk:s3cr3t@[::1]:5432/db'), 'postgres://kiosk:***@[::1]:5432/db');
  });

  it('shows nothing of a string it cannot parse', () => {
    assert.equal(redactUrl('host=db password=s3cret'), '[unparseable URL, not shown]');
    assert.equal(redactUrl(''), '[unparseable URL, not shown]');
  });
});
