import assert from 'node:assert/strict';
import { deploymentName, loadWorkerDeployment, workerDeploymentOptions } from '../../infra/worker-deployment';

describe('worker deployment settings', () => {
  it('is unversioned without a build id', () => {
    assert.equal(loadWorkerDeployment({}), undefined);
    assert.equal(
      loadWorkerDeployment({ TEMPORAL_WORKER_BUILD_ID: '  ', TEMPORAL_DEPLOYMENT_NAME: 'x' }),
      undefined,
    );
  });

  it('versions the worker by its build id, in the default deployment unless named', () => {
    assert.deepEqual(loadWorkerDeployment({ TEMPORAL_WORKER_BUILD_ID: 'v1.2.3' }), {
      deploymentName: 'kiosk-pipeline',
      buildId: 'v1.2.3',
    });
    assert.deepEqual(
      loadWorkerDeployment({
        TEMPORAL_WORKER_BUILD_ID: '15a4087',
        TEMPORAL_DEPLOYMENT_NAME: 'kiosk-staging',
      }),
      { deploymentName: 'kiosk-staging', buildId: '15a4087' },
    );
  });

  it('names the deployment the operator commands act on like the worker does', () => {
    assert.equal(deploymentName({}), 'kiosk-pipeline');
    assert.equal(deploymentName({ TEMPORAL_DEPLOYMENT_NAME: ' kiosk-staging ' }), 'kiosk-staging');
  });

  it('refuses ids the server would reject', () => {
    assert.throws(
      () => loadWorkerDeployment({ TEMPORAL_WORKER_BUILD_ID: 'a b' }),
      /TEMPORAL_WORKER_BUILD_ID/,
    );
    assert.throws(
      () => loadWorkerDeployment({ TEMPORAL_WORKER_BUILD_ID: 'b1', TEMPORAL_DEPLOYMENT_NAME: 'a.b' }),
      /TEMPORAL_DEPLOYMENT_NAME/,
    );
  });

  it('pins runs by default', () => {
    const options = workerDeploymentOptions({ deploymentName: 'd', buildId: 'b' });
    assert.equal(options.useWorkerVersioning, true);
    assert.equal(options.defaultVersioningBehavior, 'PINNED');
    assert.deepEqual(options.version, { deploymentName: 'd', buildId: 'b' });
  });
});
