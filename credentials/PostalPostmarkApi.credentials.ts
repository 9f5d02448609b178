import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Postmark server token for Postal Routes' API transport (lib/transports/api/postmark.ts). */
export class PostalPostmarkApi implements ICredentialType {
	name = 'postalPostmarkApi';
	displayName = 'Postal Routes Postmark API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://postmarkapp.com/developer/api/email-api';
	properties: INodeProperties[] = [
		{
			displayName: 'Server API Token',
			name: 'serverToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: "From the server's API Tokens tab (not the account token)",
		},
		{
			displayName: 'Message Stream',
			name: 'messageStream',
			type: 'string',
			default: 'outbound',
			description: 'The stream ID to send through; "outbound" is the default transactional stream',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'X-Postmark-Server-Token': '={{$credentials.serverToken}}' } },
	};

	// the same request as the transport's testRequest: GET /server
	test: ICredentialTestRequest = {
		request: {
			baseURL: 'https://api.postmarkapp.com',
			url: '/server',
			method: 'GET',
			headers: { Accept: 'application/json' },
		},
	};
}
