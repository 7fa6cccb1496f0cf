/**
 * Days relative to the real UTC today, for tests whose jobs run with a clock at today's noon: `dayName(1)` is
 * yesterday, `dayMs(n)` the start of that day.
 */
const DAY = 86_400_000;
export const today = new Date().toISOString().slice(0, 10);
export const noon = Date.parse(`${today}T12:00:00Z`);
export const dayMs = (n: number) => Date.parse(`${today}T00:00:00Z`) - n * DAY;
export const dayName = (n: number) => new Date(dayMs(n)).toISOString().slice(0, 10);
