/**
 * No stack to act on: no local stack running (or recorded) for the data dir, or no such deployed stack. The
 * CLI exits with EXIT.unavailable. A module of its own: `push` on a sensor throws it too, without the admin side.
 */
export class StackUnavailable extends Error {}
