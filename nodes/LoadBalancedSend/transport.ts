import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { smtpCredentialId } from '../../lib/state/keys';
import { API_PROVIDERS, ApiTransport, type ApiProviderId } from '../../lib/transports/api';
import { n8nApiCredentialInput, parseN8nSmtpCredential } from '../../lib/transports/n8nCredentials';
import { parseSmtpCredential, smtpTransportFor } from '../../lib/transports/smtp';
import type { HttpClient, Transport } from '../../lib/transports/types';
import type { LimitsInput } from '../../lib/throttle/applicable';
import { CREDENTIAL_TYPE, PROVIDERS, type ProviderEntry } from './description';

/** Sends the API requests through n8n's own HTTP helpers (Node's global agent keeps connections alive). */
function n8nHttpClient(ctx: IExecuteFunctions): HttpClient {
	return async (req) => {
		const res = (await ctx.helpers.httpRequest({
			method: req.method,
			url: req.url,
			headers: req.headers,
			body: req.body,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			json: false,
			encoding: 'text',
			timeout: 30_000,
		})) as {
			statusCode: number;
			headers: Record<string, string | string[] | undefined>;
			body: unknown;
		};
		const body =
			typeof res.body === 'string'
				? res.body
				: Buffer.isBuffer(res.body)
					? res.body.toString('utf8')
					: JSON.stringify(res.body ?? '');
		return { statusCode: res.statusCode, headers: res.headers, body };
	};
}

export interface ConnectionSetup {
	transport: Transport;
	/** the credential's own rate limit (SMTP; limit 0 = none), shared by every node using that credential */
	credentialLimit?: LimitsInput['credential'];
}

/**
 * The credential type the node reads: n8n's own when the provider has one and Credential Type says
 * so, else ours. The parameter is absent for a provider with ours only (and its default per node
 * version, ours for version 1, is filled in by n8n otherwise).
 */
export function credentialTypeOf(ctx: IExecuteFunctions, entry: ProviderEntry): string {
	if (!('n8nCredential' in entry)) return entry.credential;
	const kind = ctx.getNodeParameter(CREDENTIAL_TYPE, 0, 'postalRoutes');
	return kind === 'n8n' ? entry.n8nCredential : entry.credential;
}

/** The transport for the node's provider and credential. Credential problems name the field, never a value. */
export async function connectionFor(
	ctx: IExecuteFunctions,
	provider: string,
	/** the node's settings for what n8n's SMTP credential lacks (Options › SMTP Pool Size, Ignore SSL Issues) */
	n8nSmtp: { poolSize: number; allowUnauthorizedCerts: boolean },
): Promise<ConnectionSetup> {
	const entry = PROVIDERS.find((p) => p.value === provider);
	if (!entry)
		throw new NodeOperationError(
			ctx.getNode(),
			`Provider: "${provider}" is not one of ${PROVIDERS.map((p) => p.value).join(', ')}`,
		);
	const type = credentialTypeOf(ctx, entry);
	const n8nType = type !== entry.credential;
	const data = await ctx.getCredentials(type);
	try {
		if (provider === 'smtp') {
			const credential = n8nType
				? { ...parseN8nSmtpCredential(data), ...n8nSmtp }
				: parseSmtpCredential(data);
			// the credential's rate key names the server and user it logs in as, hashed
			const id = smtpCredentialId(credential.host, credential.port, credential.user ?? '');
			return {
				transport: smtpTransportFor(credential),
				credentialLimit: { id, limit: credential.rateLimit, per: credential.rateLimitPer },
			};
		}
		const id = provider as ApiProviderId;
		const api = API_PROVIDERS[id];
		const credential = n8nType
			? api.parseCredential(n8nApiCredentialInput(id, data), `n8n ${type}`)
			: api.parseCredential(data);
		return { transport: new ApiTransport(api, credential, n8nHttpClient(ctx)) };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message);
	}
}
