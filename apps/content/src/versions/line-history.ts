import { diffArrays } from 'diff';

export type LineChangeKind = 'added' | 'removed' | 'unchanged';

export interface LineChange {
  kind: LineChangeKind;
  text: string;
  /** Line number in the older text (removed and unchanged lines). */
  oldLine: number | null;
  /** Line number in the newer text (added and unchanged lines). */
  newLine: number | null;
}

export const splitLines = (text: string): string[] => (text === '' ? [] : text.split(/\r?\n/));

/** A line diff (longest common subsequence) with line numbers on both sides. */
export function lineDiff(older: string, newer: string): LineChange[] {
  const changes: LineChange[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffArrays(splitLines(older), splitLines(newer))) {
    for (const text of part.value) {
      if (part.added) changes.push({ kind: 'added', text, oldLine: null, newLine: newLine++ });
      else if (part.removed) changes.push({ kind: 'removed', text, oldLine: oldLine++, newLine: null });
      else changes.push({ kind: 'unchanged', text, oldLine: oldLine++, newLine: newLine++ });
    }
  }
  return changes;
}

export interface VersionText<O> {
  version: number;
  body: string;
  origin: O;
}

export interface BlamedLine<O> {
  lineNumber: number;
  text: string;
  version: number;
  origin: O;
}

/**
 * Who last changed each line of the newest version: walks the versions oldest first; a line that
 * survives a diff keeps its origin, a line a version added takes that version's.
 */
export function blame<O>(versionsOldestFirst: VersionText<O>[]): BlamedLine<O>[] {
  let lines: Omit<BlamedLine<O>, 'lineNumber'>[] = [];
  let previousBody = '';
  for (const { version, body, origin } of versionsOldestFirst) {
    const next: Omit<BlamedLine<O>, 'lineNumber'>[] = [];
    let index = 0;
    for (const change of lineDiff(previousBody, body)) {
      if (change.kind === 'removed') index += 1;
      else if (change.kind === 'unchanged') next.push(lines[index++]);
      else next.push({ text: change.text, version, origin });
    }
    lines = next;
    previousBody = body;
  }
  return lines.map((line, index) => ({ ...line, lineNumber: index + 1 }));
}
