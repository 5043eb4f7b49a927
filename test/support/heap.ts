import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes of live objects on the JS heap; compiled code left out, which grows as it pleases. */
export const objectBytes = (): number =>
  v8
    .getHeapSpaceStatistics()
    .filter((s) => !s.space_name.startsWith('code'))
    .reduce((sum, s) => sum + s.space_used_size, 0);

/** A full collection on demand, without starting the test process with --expose-gc. */
export function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
