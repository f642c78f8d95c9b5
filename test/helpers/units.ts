/** Milliseconds in a second, for readable virtual durations in tests. */
export const SECOND = 1000;
