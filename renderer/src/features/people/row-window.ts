import { useCallback, useLayoutEffect, useState, type RefObject } from 'react';
import { flushSync } from 'react-dom';

/**
 * Windowing for a list of fixed-height rows (UP-15): which rows a scroll box shows is arithmetic on
 * its scroll position and height, so a change of the list (a login adds a person) costs the same
 * with ten people as with twenty thousand. A general virtualiser that measures rows keeps an entry
 * per row and rebuilds them all when the count changes; with every row the same height there is
 * nothing to measure.
 */

/** The rows a viewport shows: the first row it touches and the row after the last (exclusive). */
export interface RowsInView {
  readonly first: number;
  readonly end: number;
}

/** A window of rows to render, `start` inclusive, `end` exclusive, within `[0, count)`. */
export interface RowWindow {
  readonly start: number;
  readonly end: number;
}

/** The rows a viewport of `height` px at `scrollTop` touches, rows of `rowHeight` px. */
export function rowsInView(scrollTop: number, height: number, rowHeight: number): RowsInView {
  const top = Math.max(0, scrollTop);
  return {
    first: Math.floor(top / rowHeight),
    end: Math.ceil((top + Math.max(0, height)) / rowHeight),
  };
}

/** The rows to render: those in view and `overscan` more either side, within the list's `count`. */
export function rowWindow(view: RowsInView, count: number, overscan: number): RowWindow {
  const clamp = (row: number) => Math.min(count, Math.max(0, row));
  return { start: clamp(view.first - overscan), end: clamp(view.end + overscan) };
}

/**
 * The scroll position that brings row `index` wholly into view, scrolling as little as it can:
 * the current one if the row is already wholly in view.
 */
export function scrollTopFor(index: number, scrollTop: number, height: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + height) return Math.max(0, bottom - height);
  return scrollTop;
}

const sameView = (a: RowsInView, b: RowsInView) => a.first === b.first && a.end === b.end;

/**
 * The window of rows the scroll box `ref` shows. It renders again only when the rows in view
 * change (not at every scrolled pixel), and at once from the scroll event or the ResizeObserver's
 * callback (both run before the frame is painted), so a row in view is never blank for a frame.
 */
export function useRowWindow(
  ref: RefObject<HTMLElement | null>,
  count: number,
  rowHeight: number,
  overscan: number,
): { window: RowWindow; scrollToRow: (index: number) => void } {
  const [view, setView] = useState<RowsInView>({ first: 0, end: 0 });
  useLayoutEffect(() => {
    const box = ref.current;
    if (box === null) return;
    const read = (sync: boolean) => {
      const next = rowsInView(box.scrollTop, box.clientHeight, rowHeight);
      const update = () => setView((current) => (sameView(current, next) ? current : next));
      if (sync) flushSync(update);
      else update();
    };
    read(false);
    const onChange = () => read(true);
    box.addEventListener('scroll', onChange, { passive: true });
    const resize = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(onChange);
    resize?.observe(box);
    return () => {
      box.removeEventListener('scroll', onChange);
      resize?.disconnect();
    };
  }, [ref, rowHeight]);
  const scrollToRow = useCallback(
    (index: number) => {
      const box = ref.current;
      if (box === null) return;
      box.scrollTop = scrollTopFor(index, box.scrollTop, box.clientHeight, rowHeight);
    },
    [ref, rowHeight],
  );
  return { window: rowWindow(view, count, overscan), scrollToRow };
}
