/**
 * How this process was started, as the modules main.ts imports before the commands read it:
 * glibc's settings (malloc-exec.ts) and V8's start-up holds (start-up.ts) are for the commands
 * that run services, and leave alone what the user set.
 */

/** The command runs services (`run`, `up`), as opposed to a short one such as `health`. */
export const runsServices = ['run', 'up'].includes(process.argv[2] ?? '');

/** The node flags the user gave, on the command line and in NODE_OPTIONS, as one string. */
export const userNodeFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
