import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Mailgun API key and sending domain for Postal Routes' API transport (lib/transports/api/mailgun.ts). */
export class PostalMailgunApi implements ICredentialType {
	name = 'postalMailgunApi';
	displayName = 'Postal Routes Mailgun API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl =
		'https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/send-http';
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Sending Domain',
			name: 'domain',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'mg.example.com',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'US', value: 'us' },
				{ name: 'EU', value: 'eu' },
			],
			default: 'us',
			description: 'Domains created in the EU region must use api.eu.mailgun.net',
		},
	];

	// Mailgun uses HTTP basic auth with the fixed user name "api"
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { auth: { username: 'api', password: '={{$credentials.apiKey}}' } },
	};

	// the same request as the transport's testRequest: GET /v3/domains/{domain}
	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{$credentials.region === "eu" ? "https://api.eu.mailgun.net" : "https://api.mailgun.net"}}',
			url: '=/v3/domains/{{encodeURIComponent($credentials.domain.trim())}}',
			method: 'GET',
		},
	};
}
