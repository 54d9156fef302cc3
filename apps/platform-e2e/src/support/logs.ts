import { ServiceProcess } from '@multipult/testing';

/**
 * The SQL statements a service logged (debug level) for one request id. Log lines reach the test
 * through a pipe after the response, so it waits until the count has been stable for a moment.
 */
export async function loggedStatements(service: ServiceProcess, requestId: string): Promise<string[]> {
  const read = () =>
    service
      .output()
      .split('\n')
      .filter((line) => line.includes(`"request_id":"${requestId}"`) && line.includes('"msg":"sql"'));
  let previous = -1;
  let lines = read();
  for (let attempt = 0; attempt < 20 && lines.length !== previous; attempt += 1) {
    previous = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    lines = read();
  }
  return lines;
}

/** Log lines of a service that mention a request id, waiting (up to 3 s) for the pipe to deliver them. */
export async function loggedLinesOf(service: ServiceProcess, requestId: string): Promise<string[]> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.includes(requestId));
    if (lines.length || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
