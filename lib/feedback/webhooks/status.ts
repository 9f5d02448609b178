/**
 * The statuses we answer, by what each provider does with them
 * (../../../../shared/research/feedback-and-reputation.md §1.1–1.7, §7.2).
 */

/** the body is not the provider's format */
export const BAD_PAYLOAD = 400;
/** a missing or wrong signature, token or password: forged or misconfigured; no provider should count on it */
export const UNAUTHENTICATED = 401;
/** SNS: a correctly signed message for a topic the user did not allow: not ours, let it drop */
export const FORBIDDEN = 403;
/** Mailgun: 406 means "rejected, do not retry" (a replayed signature token) */
export const MAILGUN_NO_RETRY = 406;
/** our own failure (not configured, a certificate we could not fetch, the store down): retried by SendGrid, Mailgun, SNS, Postmark, SparkPost, Resend */
export const UNAVAILABLE = 503;
/** Brevo drops the event on any 5xx and on every 4xx but 429: 429 is the only answer it retries */
export const BREVO_RETRY = 429;
