// Exit codes, the same in every command, so that scripts and one-off container tasks can act on them.
import { DateRangeError } from '../report/range';
import { ConfigError } from '../infra/config';

export const EXIT = {
  /** The command did what was asked, or answered yes. */
  done: 0,
  /** The work failed, or a service it needs did not answer. */
  failed: 1,
  /** The command line or the configuration is wrong: nothing was done. */
  usage: 2,
  /** "Not yet" (deploy drained: runs still pinned; db migrate --contract: older workers left); ask later. */
  notYet: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  done (or, for a question, yes)
  1  failed: the work failed or a service did not answer
  2  usage or configuration error: nothing was done
  3  not yet: the answer is no for now (deploy drained, db migrate --contract)`;

/** A command line that cannot be acted on: a missing or contradictory choice, a refused destructive action. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The answer to a command's question is "not yet"; the message says what is still pending. */
export class NotYetError extends Error {
  override name = 'NotYetError';
}

/**
 * The exit code and the line to print for an error an action threw, and whose help to point at: the
 * command's (its usage) or the program's (where the settings are described).
 */
export function classifyError(err: unknown): { code: number; line: string; help?: 'command' | 'program' } {
  if (err instanceof ConfigError)
    return { code: EXIT.usage, line: `invalid configuration: ${err.problems.join('; ')}`, help: 'program' };
  if (err instanceof UsageError || err instanceof DateRangeError)
    return { code: EXIT.usage, line: err.message, help: 'command' };
  if (err instanceof NotYetError) return { code: EXIT.notYet, line: err.message };
  return { code: EXIT.failed, line: err instanceof Error ? err.message : String(err) };
}
