/** The command's exit codes. */
export const EXIT = {
  /** Done, or stopped by SIGTERM / SIGINT. */
  ok: 0,
  /** Something failed while running: the backend could not be reached, a worker failed to stop. */
  failure: 1,
  /**
   * The command was given something wrong: a flag, the config, a tasks module that does not load.
   */
  usage: 2,
} as const;

/** An error the command reports in one line, without a stack, and exits with `exitCode`. */
export class CliError extends Error {
  override name = "CliError";

  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
