/**
 * What the SVG pictures share (`bench --plot` histograms, `trace --plot` timelines): escaping and
 * number formatting for self-contained SVG written as text, no dependencies.
 */

/** XML-escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A coordinate or length: integers as they are, anything else to one decimal. */
export function svgNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
