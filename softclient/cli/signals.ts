/** Resolves on the first SIGINT or SIGTERM (Ctrl-C, a service manager's stop), or when `also` fires `done`. */
export function untilSignal(also?: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    also?.(done);
  });
}
