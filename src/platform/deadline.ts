/** A deadline on work a server does for a client: the work's result, or `expired()` once it passes. */
export function withinDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  expired: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(expired());
    }, timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => {
    clearTimeout(timer);
  });
}
