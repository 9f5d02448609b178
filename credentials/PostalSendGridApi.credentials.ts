import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A SendGrid API key for Postal Routes' API transport (lib/transports/api/sendgrid.ts). */
export class PostalSendGridApi implements ICredentialType {
	name = 'postalSendGridApi';
	displayName = 'Postal Routes SendGrid API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send';
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'A key with the Mail Send permission',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'Global', value: 'global' },
				{ name: 'EU (Regional Subuser)', value: 'eu' },
			],
			default: 'global',
			description: 'EU regional subusers must call api.eu.sendgrid.com',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	// the same request as the transport's testRequest: GET /v3/scopes
	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{$credentials.region === "eu" ? "https://api.eu.sendgrid.com" : "https://api.sendgrid.com"}}',
			url: '/v3/scopes',
			method: 'GET',
		},
	};
}
