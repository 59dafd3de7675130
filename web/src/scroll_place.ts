/**
 * Keeping the reader's place in the message list when what is above it
 * changes (older messages, a re-render): the first message they see, and
 * how far from the top of the view it is. Pure: the page measures, these
 * decide.
 * @module
 */

/** A message as drawn: its id and its top and bottom edges in the scrolled content, in px. */
export interface Placed {
  readonly id: number;
  readonly top: number;
  readonly bottom: number;
}

/** The reader's place: a message and its top edge's distance below the view's top edge. */
export interface Anchor {
  readonly id: number;
  /** Negative when the message is cut by the top edge. */
  readonly offset: number;
}

/** How far from the bottom still counts as being at the newest message, in px. */
export const END_SLACK = 120;

/** Whether a view scrolled to `scrollTop` shows the end of its content (within {@link END_SLACK}). */
export function atEnd(view: { scrollTop: number; scrollHeight: number; clientHeight: number }) {
  return view.scrollHeight - view.scrollTop - view.clientHeight < END_SLACK;
}

/**
 * The first message the reader sees in a view scrolled to `scrollTop`: the
 * first whose bottom edge is below the top edge. `items` are in display
 * order (tops ascending); null when none is below.
 */
export function anchorAt(items: readonly Placed[], scrollTop: number): Anchor | null {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (items[middle].bottom > scrollTop) high = middle;
    else low = middle + 1;
  }
  const item = items[low];
  return item ? { id: item.id, offset: item.top - scrollTop } : null;
}

/**
 * The `scrollTop` that shows the anchor's message where it was, given its
 * top edge now; null when it is no longer drawn.
 */
export function scrollTopFor(anchor: Anchor, top: number | undefined): number | null {
  return top === undefined ? null : Math.max(0, top - anchor.offset);
}
