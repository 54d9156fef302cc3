/** Where a command's results go: one JSON object per line on stdout, for people and scripts alike. */
export type Output = (result: unknown) => void;

export const stdoutJsonLines: Output = (result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
};
