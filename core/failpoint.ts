/**
 * Failpoints for the crash tests: EASTWATCH_FAILPOINT=NAME:N kills the process with SIGKILL the N-th time the
 * code passes `failpoint(NAME)`, at the worst moment for loss or duplicates. Unset in production: one
 * comparison per call.
 */
const [armed, after] = (() => {
  const m = /^([a-z-]+):(\d+)$/.exec(process.env.EASTWATCH_FAILPOINT ?? '');
  return m ? [m[1]!, Number(m[2])] : ['', 0];
})();
let passes = 0;

export function failpoint(name: string): void {
  if (name === armed && ++passes === after) process.kill(process.pid, 'SIGKILL');
}
