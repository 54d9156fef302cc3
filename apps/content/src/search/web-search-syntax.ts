/**
 * PostgreSQL's web search syntax (websearch_to_tsquery), which search queries are written in: its
 * tokens are words, "quoted phrases" (an unclosed quote runs to the end), `OR` and -excluded words.
 * The engine's query (simpleQueryString) and the service's highlights read a query by these.
 */
export const webSearchTokens = (query: string): string[] => query.match(/"[^"]*"?|\S+/g) ?? [];

/** The syntax's OR, in any case: it joins the words beside it. */
export const isOr = (token: string): boolean => /^or$/i.test(token);
