import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * AWS keys for Postal Routes' Amazon SES (API v2) transport (lib/transports/api/ses.ts).
 * No `authenticate`/`test` here: SES requests carry an AWS Signature V4 over the method, URL, headers
 * and body, which n8n's declarative auth cannot compute. The node tests the credential itself with the
 * provider's signed testRequest (GET /v2/email/account).
 */
export class PostalSesApi implements ICredentialType {
	name = 'postalSesApi';
	displayName = 'Postal Routes Amazon SES API';
	icon = { light: 'file:icons/emailApi.svg', dark: 'file:icons/emailApi.dark.svg' } as const;
	documentationUrl = 'https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html';
	properties: INodeProperties[] = [
		{
			displayName: 'Region',
			name: 'region',
			type: 'string',
			default: 'us-east-1',
			required: true,
			placeholder: 'eu-west-1',
			description:
				'The AWS region whose SES endpoint (email.{region}.amazonaws.com) sends the mail',
		},
		{
			displayName: 'Access Key ID',
			name: 'accessKeyId',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Secret Access Key',
			name: 'secretAccessKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Session Token',
			name: 'sessionToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Only for temporary (STS) credentials',
		},
		{
			displayName: 'Configuration Set',
			name: 'configurationSetName',
			type: 'string',
			default: '',
			description:
				'Optional SES configuration set, e.g. for event publishing or a dedicated IP pool',
		},
	];
}
