import { ServiceProcess, eventually } from '@multipult/testing';

const statementsOf = (service: ServiceProcess, requestId: string) =>
  service
    .output()
    .split('\n')
    .filter((line) => line.includes(`"request_id":"${requestId}"`) && line.includes('"msg":"sql"'));

/**
 * The SQL statements a service logged (debug level) for one request id. Log lines reach the test
 * through a pipe after the response; `sendMarker` makes a later request to the same service under
 * the request id it is given, and once that request's statements have arrived, every statement of
 * the first one has (one process, one pipe, in order).
 */
export async function loggedStatements(
  service: ServiceProcess,
  requestId: string,
  sendMarker: (markerRequestId: string) => Promise<unknown>,
): Promise<string[]> {
  const markerRequestId = `${requestId}-marker`;
  await sendMarker(markerRequestId);
  await eventually(`the statements of ${markerRequestId} in the ${service.name} log`, () => statementsOf(service, markerRequestId).length > 0);
  return statementsOf(service, requestId);
}

/** Log lines of a service that mention a request id; fails if none arrive within 3 s. */
export async function loggedLinesOf(service: ServiceProcess, requestId: string): Promise<string[]> {
  return eventually(
    `log lines of ${service.name} with ${requestId}`,
    () => {
      const lines = service
        .output()
        .split('\n')
        .filter((line) => line.includes(requestId));
      return lines.length ? lines : undefined;
    },
    3_000,
  );
}
