import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/** Where the Postal Routes nodes keep shared routing state (needed for n8n queue mode). */
export class PostalRedis implements ICredentialType {
	name = 'postalRedis';
	displayName = 'Postal Routes Redis';
	icon = { light: 'file:icons/redis.svg', dark: 'file:icons/redis.dark.svg' } as const;
	documentationUrl =
		'https://www.npmjs.com/package/n8n-nodes-postal-routes#self-hosting-and-queue-mode';
	properties: INodeProperties[] = [
		{
			displayName: 'Deployment',
			name: 'mode',
			type: 'options',
			options: [
				{ name: 'Standalone', value: 'standalone' },
				{ name: 'Sentinel', value: 'sentinel' },
				{ name: 'Cluster', value: 'cluster' },
			],
			default: 'standalone',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			displayOptions: { show: { mode: ['standalone'] } },
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 6379,
			displayOptions: { show: { mode: ['standalone'] } },
		},
		{
			displayName: 'Nodes',
			name: 'nodes',
			type: 'string',
			default: '',
			placeholder: 'redis-1:26379, redis-2:26379',
			description: 'Comma-separated host:port of the Sentinels or of some Cluster nodes',
			displayOptions: { show: { mode: ['sentinel', 'cluster'] } },
		},
		{
			displayName: 'Sentinel Master Name',
			name: 'sentinelName',
			type: 'string',
			default: 'mymaster',
			displayOptions: { show: { mode: ['sentinel'] } },
		},
		{
			displayName: 'User',
			name: 'username',
			type: 'string',
			default: '',
			description: 'ACL user; empty for the default user',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Database Number',
			name: 'db',
			type: 'number',
			default: 0,
			displayOptions: { show: { mode: ['standalone', 'sentinel'] } },
		},
		{ displayName: 'SSL/TLS', name: 'tls', type: 'boolean', default: false },
		{
			displayName: 'Command Timeout (Ms)',
			name: 'commandTimeoutMs',
			type: 'number',
			default: 5000,
			typeOptions: { minValue: 1 },
			description:
				'A Redis command with no answer by then fails the run with an error naming the server, instead of waiting on a stalled or overloaded Redis',
		},
		{
			displayName: 'Key Prefix',
			name: 'prefix',
			type: 'string',
			default: 'postal:',
			description:
				'Every key the nodes write starts with this, so one Redis can serve several n8n instances',
		},
	];
}
