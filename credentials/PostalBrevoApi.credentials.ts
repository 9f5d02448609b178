import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Brevo API key for Postal Routes' API transport (lib/transports/api/brevo.ts). */
export class PostalBrevoApi implements ICredentialType {
	name = 'postalBrevoApi';
	displayName = 'Postal Routes Brevo API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://developers.brevo.com/reference/send-transac-email';
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'A v3 API key (xkeysib-…), not an SMTP key',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'api-key': '={{$credentials.apiKey}}' } },
	};

	// the same request as the transport's testRequest: GET /v3/account
	test: ICredentialTestRequest = {
		request: {
			baseURL: 'https://api.brevo.com',
			url: '/v3/account',
			method: 'GET',
			headers: { Accept: 'application/json' },
		},
	};
}
