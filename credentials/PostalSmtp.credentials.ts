import { RATE_UNIT_OPTIONS } from '../nodes/shared/options';
import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * An SMTP server or relay as one route. The fields match smtpCredentialSchema in
 * lib/transports/smtp.ts; the node's credentialTest calls testSmtpCredential (connect, EHLO, AUTH).
 */
export class PostalSmtp implements ICredentialType {
	name = 'postalSmtp';
	displayName = 'Postal Routes SMTP';
	icon = { light: 'file:icons/smtp.svg', dark: 'file:icons/smtp.dark.svg' } as const;
	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-postal-routes#smtp-credential';
	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			placeholder: 'smtp.example.com',
			required: true,
		},
		{
			displayName: 'Security',
			name: 'security',
			type: 'options',
			// the names are repeated in SMTP_SECURITY_LABELS (lib/transports/smtp.ts) for error messages
			options: [
				{
					name: 'SSL/TLS (Implicit, Usually Port 465)',
					value: 'tls',
					description: 'Encrypted from the first byte',
				},
				{
					name: 'STARTTLS (Usually Port 587)',
					value: 'starttls',
					description:
						'Upgrades to TLS with STARTTLS. With a user or password set, STARTTLS is required and the password is never sent unencrypted; without them, mail goes unencrypted if the server does not offer STARTTLS.',
				},
				{
					name: 'STARTTLS Required',
					value: 'starttlsRequired',
					description:
						'Fail instead of sending unencrypted when the server does not offer STARTTLS, even without a password',
				},
				{
					name: 'None (No Encryption, No Password)',
					value: 'none',
					description:
						'Plain text, usually port 25, for a relay that needs no login. Refuses to send a user or password.',
				},
				{
					name: 'None — Send Password Unencrypted (Not Recommended)',
					value: 'noneInsecureAuth',
					description:
						'Plain text with login: anyone on the network path can read the user and password. Only for a relay on a trusted network that offers no TLS.',
				},
			],
			default: 'starttls',
			description:
				'A user or password is only ever sent over TLS, unless the last option is chosen',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 0,
			description: 'Leave 0 for the usual port of the security mode: 465, 587 or 25',
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			description: 'Leave empty for a relay that does not authenticate',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'EHLO Name',
			name: 'ehloName',
			type: 'string',
			default: '',
			placeholder: 'mta1.example.com',
			description:
				"Host name announced with EHLO; should match the reverse DNS of the sending IP. Empty: this machine's host name.",
		},
		// a boolean, not a secret ("Certs" reads as one to the rule); n8n's own smtp credential's name
		// eslint-disable-next-line @n8n/community-nodes/credential-password-field
		{
			displayName: 'Ignore SSL Issues (Insecure)',
			name: 'allowUnauthorizedCerts',
			type: 'boolean',
			default: false,
			description:
				"Whether to connect even if the server's certificate cannot be validated (self-signed, expired, wrong host)",
		},
		{
			displayName: 'Pool Size',
			name: 'poolSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 100 },
			default: 5,
			description: 'Connections kept open to this server at most (per n8n process)',
		},
		{
			displayName: 'Messages per Connection',
			name: 'messagesPerConnection',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 100,
			description: 'A connection is replaced after this many messages',
		},
		{
			displayName: 'Rate Limit',
			name: 'rateLimit',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'Messages per period through this credential (per n8n process); 0 for no limit',
		},
		{
			displayName: 'Rate Limit Per',
			name: 'rateLimitPer',
			type: 'options',
			options: RATE_UNIT_OPTIONS,
			default: 'second',
		},
	];
}
