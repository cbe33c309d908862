/** The runtime-table item of a profile's cap slots (one per profile: every rule's slots, README.md). */
export const sendCapKey = (profileId: string) => ({ pk: `SENDCAP#${profileId}`, sk: 'SLOTS' });

/** Lost races a reservation retries before it gives up with an error (the step is then retried). */
export const SEND_CAP_MAX_ATTEMPTS = 25;

/** Kept a day past the last slot's end (TTL). */
export const sendCapExpiresAt = (slots: readonly { x: number }[], now: number) =>
  Math.ceil(Math.max(now, ...slots.map((s) => s.x)) / 1000) + 86_400;
