/** Library entry: the pure extraction and IP helpers, usable without Temporal, IMAP or AWS. */
export { extractIndicators, scanText, type FoundIndicator } from './extraction/scan';
export { extractFromMessage, type MessageExtraction } from './extraction/message';
export { refang } from './extraction/refang';
export { htmlToText } from './extraction/html';
export { parseCidr, parseIp, formatCidr, toWafEntry, cidrContains, cidrOverlaps, rangeToCidrs } from './net/ip';
export { blockability, specialRangeOf } from './net/special-ranges';
