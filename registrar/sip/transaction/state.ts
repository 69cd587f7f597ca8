/**
 * Edge checking shared by the four §17 state machines. Each machine declares its legal edges as a table
 * (`Record<State, readonly State[]>`) next to its ASCII diagram and funnels every state change through its own
 * `transition(to)`, which calls `checkEdge` — an illegal move is API misuse and throws.
 */
export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine}: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export type EdgeTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export function checkEdge<S extends string>(machine: string, edges: EdgeTable<S>, from: S, to: S): void {
  if (!edges[from].includes(to)) throw new IllegalTransitionError(machine, from, to);
}
