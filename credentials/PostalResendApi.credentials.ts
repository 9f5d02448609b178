import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Resend API key for Postal Routes' API transport (lib/transports/api/resend.ts). */
export class PostalResendApi implements ICredentialType {
	name = 'postalResendApi';
	displayName = 'Postal Routes Resend API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://resend.com/docs/api-reference/emails/send-email';
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The credential test lists domains, which needs a Full access key; a Sending access key can send but fails the test',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	// the same request as the transport's testRequest: GET /domains
	test: ICredentialTestRequest = {
		request: { baseURL: 'https://api.resend.com', url: '/domains', method: 'GET' },
	};
}
