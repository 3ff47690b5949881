import type { PersonView } from '../../device/views.ts';

/** People whose MPID or any identity value contains the query (case-insensitive), in list order. */
export function searchPeople(people: readonly PersonView[], query: string): readonly PersonView[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return people;
  return people.filter(
    (person) =>
      person.mpid.includes(needle) ||
      Object.values(person.identities).some((values) =>
        values?.some((v) => v.toLowerCase().includes(needle)),
      ),
  );
}
