import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { PersonView } from '../../device/views.ts';
import { PersonOption } from './PersonOption.tsx';
import { useRowWindow } from './row-window.ts';

const ROW_HEIGHT = 56;
const PAGE = 8;
const OVERSCAN = 8;

/**
 * The people as a windowed listbox: only the rows in view are in the DOM, and which they are is
 * arithmetic on the scroll position (UP-15), so ten thousand people scroll smoothly and a login
 * costs the list the same however many there are. Focus stays on the list; the arrow keys, Home,
 * End and Page Up/Down move the active row (announced through aria-activedescendant) and Enter
 * opens it.
 */
export function PeopleList({
  people,
  selected,
  onSelect,
}: {
  people: readonly PersonView[];
  selected: string | null;
  onSelect: (mpid: string) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  // Rows get one stable callback, so a row that stays in view does not render again as the list scrolls.
  const onSelectRef = useRef(onSelect);
  useEffect(() => {
    onSelectRef.current = onSelect;
  }, [onSelect]);
  const pick = useCallback((mpid: string, index: number) => {
    setActive(index);
    onSelectRef.current(mpid);
  }, []);
  const { window: rows, scrollToRow } = useRowWindow(scrollRef, people.length, ROW_HEIGHT, OVERSCAN);
  const activeIndex = Math.min(active, Math.max(people.length - 1, 0));
  const activePerson = people[activeIndex];

  // Scrolling to the active row reads the list's layout, so it happens only when the keyboard moves
  // it: never as the list changes, where it would force a layout in every commit (UP-3).
  const move = (to: number) => {
    const index = Math.max(0, Math.min(people.length - 1, to));
    setActive(index);
    scrollToRow(index);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(activeIndex + 1),
      ArrowUp: () => move(activeIndex - 1),
      PageDown: () => move(activeIndex + PAGE),
      PageUp: () => move(activeIndex - PAGE),
      Home: () => move(0),
      End: () => move(people.length - 1),
      Enter: () => activePerson !== undefined && onSelect(activePerson.mpid),
      ' ': () => activePerson !== undefined && onSelect(activePerson.mpid),
    };
    const action = keys[event.key];
    if (action === undefined) return;
    event.preventDefault();
    action();
  };

  const totalHeight = people.length * ROW_HEIGHT;
  const inView: ReactNode[] = [];
  for (let index = rows.start; index < rows.end; index++) {
    const person = people[index];
    if (person === undefined) continue;
    inView.push(
      <PersonOption
        key={person.mpid}
        id={optionId(person.mpid)}
        person={person}
        top={index * ROW_HEIGHT}
        height={ROW_HEIGHT}
        index={index}
        count={people.length}
        active={index === activeIndex}
        selected={person.mpid === selected}
        onPick={pick}
      />,
    );
  }
  return (
    <div
      ref={scrollRef}
      role="listbox"
      aria-label="People on this device"
      tabIndex={0}
      aria-activedescendant={activePerson === undefined ? undefined : optionId(activePerson.mpid)}
      onKeyDown={onKeyDown}
      className="people-listbox"
      style={{
        height: totalHeight,
        maxHeight: 'min(60vh, 520px)',
        overflowY: 'auto',
        overflowX: 'hidden',
        position: 'relative',
      }}
    >
      <div role="presentation" style={{ height: totalHeight, position: 'relative' }}>
        {inView}
      </div>
    </div>
  );
}

function optionId(mpid: string): string {
  return `person-option-${mpid}`;
}
