/** One line naming why a server could not listen, and the fix. */
export function listenProblem(what: string, where: { host: string; port: number }, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE")
    return `the ${what} port ${where.port} on ${where.host} is already in use: stop the other program or choose another port`;
  if (code === "EACCES")
    return `no permission to listen on ${where.host}:${where.port}: use a port above 1023`;
  if (code === "EADDRNOTAVAIL")
    return `the ${what} cannot bind to ${where.host}: that address is not on this machine`;
  return `the ${what} cannot listen on ${where.host}:${where.port}: ${(error as Error).message}`;
}
