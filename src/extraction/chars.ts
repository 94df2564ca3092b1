/** Character classes on UTF-16 code units, shared by the scanner, refang and the HTML renderer. */

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c);
}

/** a-f and A-F. */
export function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** A space or a tab: what may pad a defang or a range dash, never a line break. */
export function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}
