import { brevo } from './brevo';
import { mailgun } from './mailgun';
import { postmark } from './postmark';
import { resend } from './resend';
import { sendGrid } from './sendgrid';
import { ses } from './ses';
import { sparkPost } from './sparkpost';
import type { ApiProvider, ApiProviderId } from './types';

/** Every email API by id. Each provider has its own credential type, hence `unknown` here. */
export const API_PROVIDERS: { readonly [K in ApiProviderId]: ApiProvider<unknown> } = {
	sendgrid: sendGrid as ApiProvider<unknown>,
	mailgun: mailgun as ApiProvider<unknown>,
	postmark: postmark as ApiProvider<unknown>,
	sparkpost: sparkPost as ApiProvider<unknown>,
	ses: ses as ApiProvider<unknown>,
	resend: resend as ApiProvider<unknown>,
	brevo: brevo as ApiProvider<unknown>,
};

export function isApiProviderId(value: string): value is ApiProviderId {
	return Object.prototype.hasOwnProperty.call(API_PROVIDERS, value);
}

export type { ApiContext, ApiProvider, ApiProviderId } from './types';
export { ApiTransport } from './transport';
export { signV4, type AwsCredentials, type Signature } from './sigv4';
export { parseRetryAfter, classifyStatus } from './httpStatus';
export { brevo, mailgun, postmark, resend, sendGrid, ses, sparkPost };
export type { BrevoCredential } from './brevo';
export type { MailgunCredential } from './mailgun';
export type { PostmarkCredential } from './postmark';
export type { ResendCredential } from './resend';
export type { SendGridCredential } from './sendgrid';
export type { SesCredential } from './ses';
export type { SparkPostCredential } from './sparkpost';
