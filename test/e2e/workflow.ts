/**
 * The end-to-end workflow and its credentials:
 * Manual Trigger → Code (20 recipients on gmail.com / outlook.com) → Domain Group Classifier (add fields)
 * → Route Partitioner (percentage 70/30, one output per route) → Load-Balanced Send (SMTP, relay A)
 *                                                              → Load-Balanced Send (SMTP, relay B)
 */

export const PKG = 'n8n-nodes-postal-routes';
export const WORKFLOW_ID = 'wfPostalE2E'; // n8n wants an id of at most 21 characters
export const CRED_A = { id: 'e2eSmtpRelayA', name: 'E2E Relay A' };
export const CRED_B = { id: 'e2eSmtpRelayB', name: 'E2E Relay B' };
export const FROM = 'e2e@postal-routes.example';
export const FROM_NAME = 'Postal E2E';
export const subjectFor = (email: string) => `E2E hello ${email}`;

export const RECIPIENTS: Array<{ email: string; name: string }> = Array.from(
	{ length: 20 },
	(_, i) => {
		const domain = i % 3 === 2 ? 'outlook.com' : 'gmail.com';
		return { email: `user${String(i + 1).padStart(2, '0')}@${domain}`, name: `User ${i + 1}` };
	},
);

export interface SmtpCredentialData {
	host: string;
	port: number;
	/** the sinks speak no TLS and authenticate: the explicit plain-text choice */
	security: 'noneInsecureAuth';
	user: string;
	password: string;
	ehloName: string;
	allowUnauthorizedCerts: boolean;
	poolSize: number;
	messagesPerConnection: number;
	rateLimit: number;
	rateLimitPer: 'second';
}

export function smtpCredential(
	id: string,
	name: string,
	port: number,
	user: string,
	password: string,
) {
	const data: SmtpCredentialData = {
		host: '127.0.0.1',
		port,
		security: 'noneInsecureAuth',
		user,
		password,
		ehloName: 'e2e.postal-routes.example',
		allowUnauthorizedCerts: false,
		poolSize: 2,
		messagesPerConnection: 100,
		rateLimit: 0,
		rateLimitPer: 'second',
	};
	// plain `data` (an object): `n8n import:credentials` encrypts it with N8N_ENCRYPTION_KEY
	return { id, name, type: 'postalSmtp', data };
}

const sendNode = (
	id: string,
	name: string,
	x: number,
	y: number,
	cred: { id: string; name: string },
) => ({
	id,
	name,
	type: `${PKG}.loadBalancedSend`,
	typeVersion: 1,
	position: [x, y],
	parameters: {
		provider: 'smtp',
		from: `${FROM_NAME} <${FROM}>`,
		to: '={{ $json.recipient || $json.email }}',
		subject: "={{ 'E2E hello ' + $json.email }}",
		text: "={{ 'Hi ' + $json.name + ', this came through route ' + $json.postalRoute.route }}",
		html: '<p>Hi there</p>',
		headers: { values: [{ name: 'X-Campaign', value: 'e2e' }] },
		options: { maxAttempts: 2, retryBaseMs: 10, retryMaxMs: 50 },
	},
	credentials: { postalSmtp: cred },
});

export function buildWorkflow() {
	const jsCode = `return ${JSON.stringify(RECIPIENTS)}.map((r) => ({ json: r }));`;
	return {
		id: WORKFLOW_ID,
		name: 'Postal Routes e2e: classify, split 70/30, send to two relays',
		active: false,
		nodes: [
			{
				id: 'start',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'recipients',
				name: 'Recipients',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [200, 0],
				parameters: { jsCode },
			},
			{
				id: 'classify',
				name: 'Classify Domains',
				type: `${PKG}.domainGroupClassifier`,
				typeVersion: 1,
				position: [400, 0],
				parameters: { recipient: '={{ $json.email }}', outputMode: 'addFields' },
			},
			{
				id: 'split',
				name: 'Split 70/30',
				type: `${PKG}.routePartitioner`,
				typeVersion: 1,
				position: [600, 0],
				parameters: {
					mode: 'percentage',
					routes: {
						values: [
							{ name: 'Relay A', percentage: 70 },
							{ name: 'Relay B', percentage: 30 },
						],
					},
					outputMode: 'routes',
				},
			},
			sendNode('send-a', 'Send A', 800, -100, CRED_A),
			sendNode('send-b', 'Send B', 800, 100, CRED_B),
		],
		connections: {
			Start: { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Classify Domains', type: 'main', index: 0 }]] },
			'Classify Domains': { main: [[{ node: 'Split 70/30', type: 'main', index: 0 }]] },
			'Split 70/30': {
				main: [
					[{ node: 'Send A', type: 'main', index: 0 }],
					[{ node: 'Send B', type: 'main', index: 0 }],
					[],
				],
			},
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

export const ERROR_WORKFLOW_ID = 'wfPostalE2EErr';
export const INVALID_ADDRESS = 'not an address';

/**
 * A run that must fail inside our node: an invalid address with "Output Invalid Addresses Separately"
 * off makes the classifier throw a NodeOperationError. n8n must recognise it as its own error class
 * (n8n-core's ErrorReporter checks `instanceof BaseError`), which only holds when the package uses
 * n8n's copy of n8n-workflow.
 */
export function buildErrorWorkflow() {
	return {
		id: ERROR_WORKFLOW_ID,
		name: 'Postal Routes e2e: an invalid address stops the classifier',
		active: false,
		nodes: [
			{
				id: 'start',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'recipients',
				name: 'Recipients',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [200, 0],
				parameters: {
					jsCode: `return [{ json: { email: 'fine@gmail.com' } }, { json: { email: ${JSON.stringify(INVALID_ADDRESS)} } }];`,
				},
			},
			{
				id: 'classify',
				name: 'Classify Strictly',
				type: `${PKG}.domainGroupClassifier`,
				typeVersion: 1,
				position: [400, 0],
				parameters: { outputMode: 'perGroup', groups: ['google'], invalidOutput: false },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Classify Strictly', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

export const N8N_SMTP_WORKFLOW_ID = 'wfPostalE2EN8nSmtp';
export const CRED_N8N_SMTP = { id: 'e2eN8nSmtp', name: 'E2E n8n SMTP (Send Email’s type)' };
export const N8N_SMTP_RECIPIENTS = [
	'n8n.one@gmail.com',
	'n8n.two@outlook.com',
	'n8n.three@gmail.com',
];

/**
 * n8n's own SMTP credential (n8n-nodes-base's `smtp`, the one Send Email uses), as its form saves
 * it: SSL/TLS off, STARTTLS on, a login. Postal Routes then requires STARTTLS before AUTH; the sink
 * offers it with the fixture certificate, which the n8n process trusts (NODE_EXTRA_CA_CERTS).
 */
export function n8nSmtpCredential(port: number, user: string, password: string) {
	return {
		...CRED_N8N_SMTP,
		type: 'smtp',
		data: {
			user,
			password,
			host: '127.0.0.1',
			port,
			secure: false,
			disableStartTls: false,
			hostName: 'e2e-n8n.postal-routes.example',
		},
	};
}

/** Manual Trigger → Code (3 recipients) → a new (version 2) Load-Balanced Send on n8n's smtp credential. */
export function buildN8nSmtpWorkflow() {
	const jsCode = `return ${JSON.stringify(N8N_SMTP_RECIPIENTS)}.map((email) => ({ json: { email } }));`;
	return {
		id: N8N_SMTP_WORKFLOW_ID,
		name: "Postal Routes e2e: a send node on n8n's own SMTP credential",
		active: false,
		nodes: [
			{
				id: 'start',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'recipients',
				name: 'Recipients',
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [200, 0],
				parameters: { jsCode },
			},
			{
				id: 'send',
				name: 'Send via n8n SMTP',
				type: `${PKG}.loadBalancedSend`,
				// a node made in today's editor: provider SMTP, Credential Type left at n8n's own
				typeVersion: 2,
				position: [400, 0],
				parameters: {
					routeName: 'n8n SMTP',
					from: `${FROM_NAME} <${FROM}>`,
					to: '={{ $json.email }}',
					subject: "={{ 'E2E n8n SMTP ' + $json.email }}",
					text: 'Sent with the credential Send Email uses.',
				},
				credentials: { smtp: { id: CRED_N8N_SMTP.id, name: CRED_N8N_SMTP.name } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Recipients', type: 'main', index: 0 }]] },
			Recipients: { main: [[{ node: 'Send via n8n SMTP', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}
