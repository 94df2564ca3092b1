/** Library entry: the pure extraction and IP helpers, usable without Temporal, IMAP or AWS. */
export { extractIndicators, scanText, mergeIndicators, type FoundIndicator } from './extraction/scan';
export { MAX_WHERE, MAX_PLACES, type Place, type Source } from './extraction/indicators';
export { extractFromMessage, type MessageExtraction, type MessageExtractionOptions } from './extraction/message';
export { extractFromFile, type FileExtraction } from './extraction/file';
export type { ExtractionOptions } from './extraction/parts';
export { refang } from './extraction/refang';
export { unwrapUrls } from './extraction/unwrap';
export { htmlToText } from './extraction/html';
export { parseCidr, parseIp, formatCidr, toWafEntry, cidrContains, cidrOverlaps, rangeToCidrs } from './net/ip';
export { blockability, blockabilityOfV4, specialRangeOf } from './net/special-ranges';
