/** Handles mentioned in Markdown as `@username` (not inside words or e-mail addresses), at most 20. */
export function mentionedUsernames(markdown: string): string[] {
  const names = new Set<string>();
  for (const [, username] of markdown.matchAll(/(?<![\w@.])@([a-z0-9_]{3,30})(?![\w@])/g)) {
    names.add(username);
    if (names.size === 20) break;
  }
  return [...names];
}
