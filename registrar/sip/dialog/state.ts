/**
 * Dialog state machine (RFC 3261 §12).
 *
 *            1xx with To tag            2xx
 *   (none) ─────────────────▶ early ───────────▶ confirmed
 *      │                        │                   │
 *      │ 2xx                    │ non-2xx final /   │ BYE sent or received,
 *      └──────────────────────────────────────────▶ │ 2xx never ACKed (§13.3.1.4)
 *                               ▼                   ▼
 *                           terminated ◀────────────┘
 *
 * A dialog object is created directly in `early` or `confirmed`.
 */
export type DialogState = 'early' | 'confirmed' | 'terminated';

const LEGAL: Record<DialogState, readonly DialogState[]> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** Returns `to` if the edge is legal; throws (API misuse) otherwise. */
export function dialogTransition(from: DialogState, to: DialogState): DialogState {
  if (!LEGAL[from].includes(to)) throw new Error(`dialog: illegal transition ${from} -> ${to}`);
  return to;
}
