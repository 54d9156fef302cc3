/** Order changes on a collection's document ids; each returns the new order and leaves the input alone. */

/** `id` inserted at `position` (clamped to the list), or appended when no position is given. */
export function insertAt(order: readonly string[], id: string, position?: number): string[] {
  const at = position === undefined ? order.length : Math.min(Math.max(position, 0), order.length);
  return [...order.slice(0, at), id, ...order.slice(at)];
}

/** `id` moved to `position` (clamped), the others keeping their relative order. */
export function moveTo(order: readonly string[], id: string, position: number): string[] {
  return insertAt(
    order.filter((other) => other !== id),
    id,
    position,
  );
}

/** Whether `proposed` is exactly the current documents in another order (no additions, losses or repeats). */
export function isPermutationOf(current: readonly string[], proposed: readonly string[]): boolean {
  if (current.length !== proposed.length || new Set(proposed).size !== proposed.length) return false;
  const members = new Set(current);
  return proposed.every((id) => members.has(id));
}
