// A test-only workflow for what a server does with a pinned run that continues as new asking to upgrade
// (initialVersioningBehavior AUTO_UPGRADE): each run waits for a signal, the first then continues as new.
import { condition, defineSignal, makeContinueAsNewFunc, setHandler } from '@temporalio/workflow';

export const proceedSignal = defineSignal('proceed');

export async function pinnedThenContinued(generation: number): Promise<number> {
  let proceed = false;
  setHandler(proceedSignal, () => {
    proceed = true;
  });
  await condition(() => proceed);
  if (generation === 0) {
    await makeContinueAsNewFunc<typeof pinnedThenContinued>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(1);
  }
  return generation;
}
