/** A start-up failure with a one-line message for the operator. */
export class StartupError extends Error {}
