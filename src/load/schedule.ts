/**
 * When the open model's arrivals are due: a fixed timeline computed from the target rate,
 * never from when earlier responses came back.
 */

export interface ArrivalRate {
  /** Arrivals per second once the ramp is over. */
  perSecond: number;
  /** Seconds over which the rate climbs linearly from 0 to `perSecond`; 0 for no ramp. */
  rampSeconds: number;
}

/**
 * Milliseconds from the start at which arrival `index` (from 0) is due. During the ramp the
 * arrivals so far are the area under the rate line, r·t²/(2T), so arrival k is due at
 * √(2Tk/r); after it, one every 1/r seconds.
 */
export function arrivalOffsetMs(index: number, rate: ArrivalRate): number {
  const { perSecond, rampSeconds } = rate;
  const arrivalsDuringRamp = (perSecond * rampSeconds) / 2;
  if (index < arrivalsDuringRamp) {
    return Math.sqrt((2 * rampSeconds * index) / perSecond) * 1000;
  }
  return (rampSeconds + (index - arrivalsDuringRamp) / perSecond) * 1000;
}

/** How many arrivals fall before `durationMs`: what a duration-bounded open run sends. */
export function arrivalsWithin(durationMs: number, rate: ArrivalRate): number {
  let low = 0;
  let high = Math.ceil((rate.perSecond * durationMs) / 1000) + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (arrivalOffsetMs(middle, rate) < durationMs) low = middle + 1;
    else high = middle;
  }
  return low;
}
