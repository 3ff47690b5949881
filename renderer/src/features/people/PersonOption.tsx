import { memo } from 'react';
import { PersonStateBadge } from '../../components/PersonStateBadge.tsx';
import { shortMpid } from '../../components/ShortMpid.tsx';
import { personTitle } from '../../components/person-title.ts';
import type { PersonView } from '../../device/views.ts';

/**
 * One row of the people list: an ARIA option (so nothing inside it is interactive). Memoised: the
 * engine hands out the same person object while the person does not change. Plain elements
 * styled by app.css, not Mantine components: a login shifts every row in view, and each renders
 * again (UP-2).
 */
export const PersonOption = memo(function PersonOption({
  person,
  id,
  top,
  height,
  index,
  count,
  active,
  selected,
  onPick,
}: {
  person: PersonView;
  id: string;
  top: number;
  height: number;
  index: number;
  count: number;
  active: boolean;
  selected: boolean;
  onPick: (mpid: string, index: number) => void;
}) {
  return (
    <div
      id={id}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={count}
      data-active={active}
      className="person-option"
      style={{ top, height }}
      onClick={() => onPick(person.mpid, index)}
    >
      <span className="person-option-text">
        <span className="person-option-title truncate">
          {personTitle(person)}
          {person.current && <span className="person-option-meta"> (current)</span>}
        </span>
        <span className="person-option-meta truncate">
          {person.known ? 'Known' : 'Anonymous'} · MPID {shortMpid(person.mpid)}
        </span>
      </span>
      <PersonStateBadge state={person.state} short />
    </div>
  );
});
