/**
 * Places the sensor names of deployment markers in horizontal lanes above the plot so that no two names
 * overlap and no marker line runs through a name, however close the deployments are.
 *
 * Each marker is a vertical line from its label's lane down to the x axis; the name sits beside the line's
 * top, to its right (or to its left near the right edge). Lane 0 is the one nearest the data. Markers are
 * placed right to left: then a new name only has to end before whatever is already to its right in its
 * lane, and its line can only cross lanes below it, where everything placed so far lies further right.
 * Each lane therefore needs only "how far left is it already taken" (`takenFrom`).
 */

export interface LabelRequest {
  /** marker position in plot pixels */
  x: number;
  /** label width in pixels */
  width: number;
}

export interface PlacedLabel {
  lane: number;
  /** horizontal offset of the label's anchor from the marker */
  dx: number;
  align: 'left' | 'right';
  /** true when no lane had room and the label was drawn over another (only past `maxLanes`) */
  crowded: boolean;
}

export interface LaneLayout {
  labels: PlacedLabel[];
  lanes: number;
  /** how many labels had to overlap another */
  crowded: number;
}

/** Space between a marker line and its name. */
export const LABEL_OFFSET = 4;
/** Minimum space between two names in a lane. */
const LABEL_GAP = 8;

export function layoutLabelLanes(
  requests: readonly LabelRequest[],
  bounds: { left: number; right: number },
  maxLanes: number,
): LaneLayout {
  const order = requests.map((_, i) => i).sort((a, b) => (requests[b]?.x ?? 0) - (requests[a]?.x ?? 0) || a - b);
  const takenFrom: number[] = [];
  const labels: PlacedLabel[] = new Array<PlacedLabel>(requests.length);
  let lanes = 0;
  let crowded = 0;

  const laneFree = (lane: number): number => takenFrom[lane] ?? bounds.right + LABEL_GAP;
  const findLane = (x: number, fits: (free: number) => boolean, align: 'left' | 'right'): PlacedLabel | undefined => {
    for (let lane = 0; lane < maxLanes; lane++) {
      if (fits(laneFree(lane))) {
        return { lane, dx: align === 'left' ? LABEL_OFFSET : -LABEL_OFFSET, align, crowded: false };
      }
      if (x > laneFree(lane)) return undefined; // the line would cut through this lane's names
    }
    return undefined;
  };

  for (const i of order) {
    const req = requests[i];
    if (!req) continue;
    const { x, width } = req;
    // The name right of its line first, in the lowest lane that has room and that the line can reach (every
    // lane below the name must still be free at x). Left of its line only when no lane has room on the right
    // (near the right edge), because a name left of its line blocks, in its lane, every line further left.
    const placed =
      findLane(x, (free) => x + LABEL_OFFSET + width + LABEL_GAP <= free, 'left') ??
      (x - LABEL_OFFSET - width >= bounds.left ? findLane(x, (free) => x <= free, 'right') : undefined) ??
      // Out of lanes: the top lane takes it, overlapping, rather than dropping a sensor's name.
      { lane: maxLanes - 1, dx: LABEL_OFFSET, align: 'left' as const, crowded: true };

    const start = placed.align === 'left' ? x : x - LABEL_OFFSET - width;
    takenFrom[placed.lane] = Math.min(laneFree(placed.lane), start);
    for (let below = 0; below < placed.lane; below++) takenFrom[below] = Math.min(laneFree(below), x);
    labels[i] = placed;
    lanes = Math.max(lanes, placed.lane + 1);
    if (placed.crowded) crowded++;
  }
  return { labels, lanes, crowded };
}
