import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { PersonView } from '../../device/views.ts';
import { PersonOption } from './PersonOption.tsx';

const ROW_HEIGHT = 56;
const PAGE = 8;

/**
 * The people as a virtualised listbox: only the rows in view are in the DOM, so ten thousand
 * people scroll smoothly. Focus stays on the list; the arrow keys, Home, End and Page Up/Down move
 * the active row (announced through aria-activedescendant) and Enter opens it.
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
  // No React Compiler in this build: the virtualizer's own re-renders keep the list current.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: people.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const activeIndex = Math.min(active, Math.max(people.length - 1, 0));
  const activePerson = people[activeIndex];

  // Scrolling to the active row reads the list's layout, so it happens only when the keyboard moves
  // it: never as the list changes, where it would force a layout in every commit (UP-3).
  const move = (to: number) => {
    const index = Math.max(0, Math.min(people.length - 1, to));
    setActive(index);
    virtualizer.scrollToIndex(index, { align: 'auto' });
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
        height: virtualizer.getTotalSize(),
        maxHeight: 'min(60vh, 520px)',
        overflowY: 'auto',
        overflowX: 'hidden',
        position: 'relative',
      }}
    >
      <div role="presentation" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const person = people[item.index];
          if (person === undefined) return null;
          return (
            <PersonOption
              key={person.mpid}
              id={optionId(person.mpid)}
              person={person}
              top={item.start}
              height={item.size}
              index={item.index}
              count={people.length}
              active={item.index === activeIndex}
              selected={person.mpid === selected}
              onPick={pick}
            />
          );
        })}
      </div>
    </div>
  );
}

function optionId(mpid: string): string {
  return `person-option-${mpid}`;
}
