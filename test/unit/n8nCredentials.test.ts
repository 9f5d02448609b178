import {
	NodeHelpers,
	type INode,
	type INodeParameters,
	type INodeProperties,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { parseN8nRedisCredential } from '../../lib/state/connection';
import { API_PROVIDERS } from '../../lib/transports/api';
import { n8nApiCredentialInput, parseN8nSmtpCredential } from '../../lib/transports/n8nCredentials';
import { DomainGroupClassifier } from '../../nodes/DomainGroupClassifier/DomainGroupClassifier.node';
import { DUAL_CREDENTIAL_PROVIDERS, PROVIDERS } from '../../nodes/LoadBalancedSend/description';
import { LoadBalancedSend } from '../../nodes/LoadBalancedSend/LoadBalancedSend.node';
import { PostalBounceParser } from '../../nodes/PostalBounceParser/PostalBounceParser.node';
import { PostalFeedbackTrigger } from '../../nodes/PostalFeedbackTrigger/PostalFeedbackTrigger.node';
import { RoutePartitioner } from '../../nodes/RoutePartitioner/RoutePartitioner.node';

const SECRET = 'n8n-cred-s3cret-value';

describe("n8n's own credential types read as ours (fields as n8n 2.40.7 defines them)", () => {
	it('smtp: SSL/TLS on is implicit TLS on the given port; the Client Host Name is the EHLO name', () => {
		const c = parseN8nSmtpCredential({
			user: 'ann',
			password: SECRET,
			host: 'smtp.example.com',
			port: 465,
			secure: true,
			disableStartTls: false,
			hostName: 'mta1.example.com',
		});
		expect(c).toMatchObject({
			host: 'smtp.example.com',
			port: 465,
			security: 'tls',
			user: 'ann',
			password: SECRET,
			ehloName: 'mta1.example.com',
			allowUnauthorizedCerts: false,
			poolSize: 5,
			source: 'n8n',
		});
	});

	it('smtp: SSL/TLS off is STARTTLS (required with a password); Disable STARTTLS without a login is plain text', () => {
		expect(
			parseN8nSmtpCredential({
				host: 'relay',
				port: 587,
				secure: false,
				user: 'u',
				password: SECRET,
			}),
		).toMatchObject({ security: 'starttls', port: 587 });
		expect(
			parseN8nSmtpCredential({ host: 'relay', port: 25, secure: false, disableStartTls: true }),
		).toMatchObject({ security: 'none', port: 25, user: '', password: '' });
		// a fresh n8n form: only host typed, the rest n8n's defaults (port 465, SSL/TLS on)
		expect(parseN8nSmtpCredential({ host: 'relay' })).toMatchObject({ security: 'tls', port: 465 });
	});

	it('smtp: Disable STARTTLS with a password is refused, naming the fields and never the password', () => {
		expect(() =>
			parseN8nSmtpCredential({
				host: 'relay',
				port: 25,
				secure: false,
				disableStartTls: true,
				user: 'ann',
				password: SECRET,
			}),
		).toThrow(/"Disable STARTTLS" is on with a user or password/);
		try {
			parseN8nSmtpCredential({ host: '', password: SECRET, port: 99999 });
			throw new Error('no error');
		} catch (error) {
			const message = (error as Error).message;
			expect(message).toMatch(/^Invalid n8n SMTP credential/);
			expect(message).toMatch(/host/);
			expect(message).not.toContain(SECRET);
		}
	});

	it('sendGridApi, postmarkApi, sendInBlueApi: the key, with our defaults for what n8n’s type lacks', () => {
		const sg = API_PROVIDERS.sendgrid.parseCredential(
			n8nApiCredentialInput('sendgrid', { apiKey: ` ${SECRET}\n` }),
		);
		expect(sg).toEqual({ apiKey: SECRET, region: 'global' });
		expect(
			API_PROVIDERS.postmark.parseCredential(
				n8nApiCredentialInput('postmark', { serverToken: SECRET }),
			),
		).toEqual({ serverToken: SECRET, messageStream: 'outbound' });
		expect(
			API_PROVIDERS.brevo.parseCredential(n8nApiCredentialInput('brevo', { apiKey: SECRET })),
		).toEqual({ apiKey: SECRET });
	});

	it('mailgunApi: Email Domain is the sending domain, API Domain the region', () => {
		const input = (apiDomain: string) =>
			API_PROVIDERS.mailgun.parseCredential(
				n8nApiCredentialInput('mailgun', {
					apiDomain,
					emailDomain: 'mg.shop.example',
					apiKey: SECRET,
				}),
			);
		expect(input('api.eu.mailgun.net')).toEqual({
			apiKey: SECRET,
			domain: 'mg.shop.example',
			region: 'eu',
		});
		expect(input('api.mailgun.net')).toMatchObject({ region: 'us' });
		expect(() => n8nApiCredentialInput('mailgun', { apiKey: SECRET, emailDomain: '' })).toThrow(
			'n8n mailgunApi credential: emailDomain is required',
		);
	});

	it('aws: region and keys; the session token only with Temporary Security Credentials; the SES endpoint only with Custom Endpoints', () => {
		const ses = (data: object) =>
			API_PROVIDERS.ses.parseCredential(n8nApiCredentialInput('ses', data), 'n8n aws');
		const base = { region: 'eu-west-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET };
		expect(ses({ ...base, temporaryCredentials: false, sessionToken: 'stale' })).toEqual({
			...base,
			sessionToken: undefined,
			configurationSetName: undefined,
			endpoint: undefined,
		});
		expect(ses({ ...base, temporaryCredentials: true, sessionToken: 'tok' })).toMatchObject({
			sessionToken: 'tok',
		});
		expect(
			ses({ ...base, customEndpoints: false, sesEndpoint: 'https://vpce.example' }),
		).toMatchObject({ endpoint: undefined });
		expect(
			ses({ ...base, customEndpoints: true, sesEndpoint: 'https://email.{region}.vpce.example' }),
		).toMatchObject({ endpoint: 'https://email.eu-west-1.vpce.example' });
		expect(() => ses({ ...base, region: '' })).toThrow(/^n8n aws credential: region/);
	});

	it('redis: one server, keys under postal:, n8n’s field names', () => {
		expect(
			parseN8nRedisCredential({
				password: SECRET,
				user: 'worker',
				host: 'redis.internal',
				port: 6380,
				database: 3,
				ssl: true,
				disableTlsVerification: true,
			}),
		).toEqual({
			mode: 'standalone',
			host: 'redis.internal',
			port: 6380,
			nodes: [],
			username: 'worker',
			password: SECRET,
			db: 3,
			tls: true,
			tlsInsecure: true,
			keyPrefix: 'postal:',
		});
		expect(parseN8nRedisCredential({ host: 'r' })).toMatchObject({ port: 6379, db: 0, tls: false });
		expect(() => parseN8nRedisCredential({ host: '', password: SECRET })).toThrow(
			/^n8n Redis credential: host is empty$/,
		);
	});
});

/**
 * n8n's editor rule for a node's "main authentication field" (getMainAuthField and
 * isAuthRelatedParameter in packages/frontend/editor-ui, n8n 2.40.7), restated: the parameters
 * credentials name in `displayOptions.show` are auth fields; the main one is an auth field named
 * `authentication`, else the first options field all of whose values some credential names. The
 * editor drops the main one and every parameter an auth field's own `show` names from the panel.
 */
function hiddenByAuthRule(d: INodeTypeDescription): string[] {
	const shown = new Map<string, string[]>();
	for (const c of d.credentials ?? [])
		for (const [name, values] of Object.entries(c.displayOptions?.show ?? {}))
			shown.set(name, [...(shown.get(name) ?? []), ...(values ?? []).map(String)]);
	const authFields = d.properties.filter((p) => shown.has(p.name));
	const main =
		authFields.find((p) => p.name === 'authentication') ??
		authFields.find(
			(p) =>
				p.type === 'options' &&
				(p.options ?? []).every(
					(o) =>
						!('value' in o) || typeof o.value !== 'string' || shown.get(p.name)?.includes(o.value),
				),
		);
	if (!main) return [];
	const related = d.properties.filter((p) =>
		authFields.some((f) => f.displayOptions?.show && p.name in f.displayOptions.show),
	);
	return [main.name, ...related.map((p) => p.name)];
}

const node = (version: number, parameters: INodeParameters): INode => ({
	id: 'n',
	name: 'Send',
	type: 'n8n-nodes-postal-routes.loadBalancedSend',
	typeVersion: version,
	position: [0, 0],
	parameters,
});

/** The credentials n8n shows (and requires) for these parameters, with n8n's own display logic. */
function displayedCredentials(d: INodeTypeDescription, version: number, set: INodeParameters) {
	const n = node(version, set);
	const parameters = NodeHelpers.getNodeParameters(d.properties, set, true, false, n, d)!;
	return (d.credentials ?? [])
		.filter((c) => NodeHelpers.displayParameter(parameters, c, n, d))
		.map((c) => c.name);
}

describe('the panel: Provider visible, the credential selector first', () => {
	const send = new LoadBalancedSend().description;
	const nodes = [
		send,
		new RoutePartitioner().description,
		new DomainGroupClassifier().description,
		new PostalBounceParser().description,
		new PostalFeedbackTrigger().description,
	];

	it('no parameter of any node is taken for the authentication selector, so none is hidden', () => {
		for (const d of nodes) expect(hiddenByAuthRule(d)).toEqual([]);
		// the rule as restated does hide a Provider that credentials name in `show` (as before)
		const before = {
			...send,
			credentials: PROVIDERS.map((p) => ({
				name: p.credential,
				displayOptions: { show: { provider: [p.value] } },
			})),
		};
		expect(hiddenByAuthRule(before)).toEqual(['provider']);
	});

	it('draws the credential selector first (a credentials placeholder), then Provider', () => {
		expect(send.properties.slice(0, 2).map((p) => [p.type, p.name])).toEqual([
			['credentials', 'credentialsFirst'],
			['options', 'provider'],
		]);
	});

	it('shows exactly the provider’s credential: n8n’s by default on version 2, ours on version 1 (saved workflows)', () => {
		for (const p of PROVIDERS) {
			const n8nType = 'n8nCredential' in p ? p.n8nCredential : p.credential;
			expect(displayedCredentials(send, 2, { provider: p.value })).toEqual([n8nType]);
			expect(displayedCredentials(send, 1, { provider: p.value })).toEqual([p.credential]);
			expect(
				displayedCredentials(send, 2, { provider: p.value, credentialType: 'postalRoutes' }),
			).toEqual([p.credential]);
		}
		expect(DUAL_CREDENTIAL_PROVIDERS).toEqual([
			'smtp',
			'sendgrid',
			'mailgun',
			'postmark',
			'ses',
			'brevo',
		]);
	});

	it('Redis: the selector right under State Store and Redis Credential Type; n8n’s by default on version 2', () => {
		for (const d of nodes) {
			const names = d.properties.map((p) => p.name);
			const at = names.indexOf('stateStore');
			const placeholder = d.properties.findIndex(
				(p: INodeProperties) => p.type === 'credentials' && p.name === 'redisCredentials',
			);
			expect(names.slice(at, at + 3)).toEqual([
				'stateStore',
				'redisCredentialType',
				'redisCredentialType',
			]);
			expect(placeholder).toBe(at + 3);
			const transport = d === send ? 1 : 0;
			expect(displayedCredentials(d, 2, { stateStore: 'redis' }).slice(transport)).toEqual([
				'redis',
			]);
			expect(displayedCredentials(d, 1, { stateStore: 'redis' }).slice(transport)).toEqual([
				'postalRedis',
			]);
			expect(displayedCredentials(d, 2, { stateStore: 'memory' }).slice(transport)).toEqual([]);
		}
		// the Bounce Parser needs state only for its suppression list
		const bounce = nodes[3];
		expect(
			displayedCredentials(bounce, 2, { stateStore: 'redis', updateSuppression: false }),
		).toEqual([]);
	});
});
