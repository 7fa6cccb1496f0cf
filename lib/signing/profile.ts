/** DESIGN §4: the components every batch signature must cover — what the sensor signs and the service requires. */
export const REQUIRED_COMPONENTS = ['@method', '@path', 'content-digest', 'content-type', 'idempotency-key'];
