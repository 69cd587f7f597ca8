/** Small display helpers shared by the views. */

/** HH:MM:SS in the viewer's time zone (chat lines carry RFC 3339 times). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Grid columns for n tiles: 1, 2, 2×2, 3×3, then 4 wide (and the grid scrolls). */
export function columnsFor(n: number): number {
  if (n <= 1) return 1;
  if (n <= 4) return 2;
  if (n <= 9) return 3;
  return 4;
}

export function modeLabel(mode: string | undefined): string {
  if (mode === 'p2p') return 'peer-to-peer';
  if (mode === 'cs') return 'via server';
  return 'connecting';
}

/** Initials for a tile without video ("Ann Lee" → "AL"). */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return (parts.length > 1 ? parts[0]![0]! + parts[parts.length - 1]![0]! : (parts[0] ?? '?').slice(0, 2)).toUpperCase();
}
