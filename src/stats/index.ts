/**
 * Dependency-free exact statistics for vtune-bench: binomial and Poisson-binomial tails in log space,
 * Clopper-Pearson and Wilson intervals, the empirical-null p-value and Fisher's combination.
 */
export { LN10, log1mExp, logAddExp, logChoose, logFactorial, logSumExp, toLog10 } from './log-space.js';
export { binomialLog10Sf, binomialLogCdf, binomialLogPmf, binomialLogSf } from './binomial.js';
export { poissonBinomialLog10Sf, poissonBinomialLogSf } from './poisson-binomial.js';
export { clopperPearson, normalLogUpperTail, normalQuantile, wilson, type RateInterval } from './intervals.js';
export { empiricalLog10P, empiricalPValue } from './empirical.js';
export { chiSquareEvenLogSf, fisherCombineLog10 } from './fisher.js';
export { discreteFisherLogSf, rankFisherLog10 } from './rank-fisher.js';
