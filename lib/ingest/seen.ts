/**
 * When to record that a sensor reported (the `SEEN#<sensor>` item the silent-sensor warning reads, DESIGN §15).
 * A put per batch would add a write unit to every batch — a third of a dense batch's cost — for a figure that
 * only has to be right to well within the silence threshold (2 hours by default). So each container writes a
 * sensor's mark at most once per interval: a quarter of the threshold, at most 5 minutes. A sensor that was
 * silent has not written for longer than that, so its next batch always writes and clears the warning.
 */
export class SeenMarks {
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    /** Sensors remembered at most; the oldest is forgotten first (its next batch just writes again). */
    private readonly maxSensors = 10_000,
  ) {}

  static forSilence(silentAfterSeconds: number): SeenMarks {
    return new SeenMarks(Math.min(5 * 60_000, (silentAfterSeconds * 1000) / 4));
  }

  /** True when this batch should write the sensor's mark; remembers it as written. */
  due(sensor: string, now: number): boolean {
    const last = this.lastWritten.get(sensor);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastWritten.delete(sensor);
    if (this.lastWritten.size >= this.maxSensors) this.lastWritten.delete(this.lastWritten.keys().next().value!);
    this.lastWritten.set(sensor, now);
    return true;
  }
}
