import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A SparkPost API key for Postal Routes' API transport (lib/transports/api/sparkpost.ts). */
export class PostalSparkPostApi implements ICredentialType {
	name = 'postalSparkPostApi';
	displayName = 'Postal Routes SparkPost API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://developers.sparkpost.com/api/transmissions/';
	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A key with the Transmissions: Read/Write permission (Account: Read for the test)',
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
		},
	];

	// SparkPost takes the bare key in Authorization, no scheme
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '={{$credentials.apiKey}}' } },
	};

	// the same request as the transport's testRequest: GET /api/v1/account
	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{$credentials.region === "eu" ? "https://api.eu.sparkpost.com" : "https://api.sparkpost.com"}}',
			url: '/api/v1/account',
			method: 'GET',
		},
	};
}
