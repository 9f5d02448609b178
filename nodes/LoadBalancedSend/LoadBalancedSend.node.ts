import {
	NodeConnectionTypes,
	NodeOperationError,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
	type INode,
	type INodeExecutionData,
	type NodeExecutionHint,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import {
	deliverBatch,
	type DeliveryJob,
	type DeliveryRecord,
	type DeliveryResult,
} from '../../lib/delivery/pipeline';
import { StateUnavailableError } from '../../lib/state/types';
import { API_PROVIDERS, ApiTransport } from '../../lib/transports/api';
import { nodeHttpClient } from '../../lib/transports/nodeHttp';
import { parseN8nSmtpCredential } from '../../lib/transports/n8nCredentials';
import { testSmtpCredential } from '../../lib/transports/smtp';
import { ParameterReader } from '../shared/itemValues';
import { withField } from '../shared/json';
import {
	type NodeState,
	REDIS_TEST,
	redisShownFor,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { shownFor } from './credentials';
import { PROVIDER_LABELS, sendProperties, SES_TEST, SMTP_TEST } from './description';
import { itemJob, type JobSettings } from './jobs';
import { deliverySettings, messageOptionsOf, readSendParameters } from './options';
import { connectionFor } from './transport';
import { probeConnection } from './probe';
import { publishRouteLimits } from './routeLimits';
import { capText } from '../../lib/util/secrets';

const OUTPUT = { sent: 0, failed: 1, fallback: 2, skipped: 3 } as const;

/** items a dry run builds and records at a time */
const DRY_RUN_CHUNK = 100;

/** on every item sent (or not) while Redis was unreachable and the user chose local state */
const LOCAL_STATE_MARK =
	'Redis was unreachable: duplicate protection, limits and route health used this process’s local state';

/** The error for a run the state store stopped: what went, what did not, what to do. */
function stoppedByState(node: INode, error: Error, results: DeliveryResult[]): NodeOperationError {
	const sent = results.filter(
		(r) => r.record.status === 'sent' || r.record.status === 'partially-sent',
	).length;
	const notSent = results.filter((r) => r.record.status === 'not-sent').length;
	if (!(error instanceof StateUnavailableError)) return new NodeOperationError(node, error);
	return new NodeOperationError(
		node,
		stateUnavailableMessage(
			error,
			`Sending stopped: without the shared state a message could go out twice or past its limits. ${sent} message(s) went before it stopped and are remembered; ${notSent} were not sent — run it again once the state store is back.`,
		),
	);
}

/** How many messages went, per output: the hint for a run that delivered nothing. */
class Tally {
	private delivered = false;
	private readonly counts = { sent: 0, failed: 0, fallback: 0, skipped: 0 };
	private reason?: string;

	add(r: DeliveryResult): void {
		if (r.record.status === 'sent' || r.record.status === 'partially-sent') this.delivered = true;
		this.counts[r.output]++;
		if (this.reason === undefined && (r.output === 'fallback' || r.output === 'failed'))
			this.reason = r.record.error ?? '';
	}

	/**
	 * When a run delivered nothing, the node says so in the output pane (a green run that sent no
	 * mail looks fine otherwise): how many went where, and the first route-level reason.
	 */
	nothingDelivered(): NodeExecutionHint | undefined {
		const { sent, failed, fallback, skipped } = this.counts;
		if (this.delivered || sent + failed + fallback + skipped === 0) return undefined;
		const parts = [`${fallback} on Fallback`, `${failed} failed`, `${skipped} skipped`];
		return {
			type: 'warning',
			location: 'outputPane',
			message: `No message was delivered: ${parts.join(', ')}.${this.reason ? ` First reason: ${this.reason}` : ''}`,
		};
	}
}

/** This run, as a later run that meets its claims names it: the execution and the node. */
function runOwner(ctx: IExecuteFunctions): string {
	return capText(`execution ${ctx.getExecutionId() ?? '?'} · ${ctx.getNode().name}`);
}

async function testSes(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	try {
		const ses = API_PROVIDERS.ses;
		// verify() scrubs and caps what SES answers, like a send's failure
		const result = await new ApiTransport(
			ses,
			ses.parseCredential(credential.data),
			nodeHttpClient,
		).verify();
		return result.ok
			? { status: 'OK', message: 'Connected: SES answered GetAccount' }
			: { status: 'Error', message: result.message };
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
}

async function testSmtp(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	if (credential.type !== 'smtp') return testSmtpCredential(credential.data);
	// n8n's own SMTP type: read as ours, then the same test (connect, EHLO, STARTTLS, AUTH)
	try {
		return testSmtpCredential(parseN8nSmtpCredential(credential.data));
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
}

export class LoadBalancedSend implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Load-Balanced Send',
		name: 'loadBalancedSend',
		icon: { light: 'file:loadBalancedSend.svg', dark: 'file:loadBalancedSend.dark.svg' },
		group: ['output'],
		// 2: a provider with an n8n credential type defaults to it; 3: the options in groups
		version: [1, 2, 3],
		defaultVersion: 3,
		usableAsTool: true,
		// the provider's display name (not its value), then the route: "SMTP · Relay A"
		subtitle: `={{ (${JSON.stringify(PROVIDER_LABELS)})[$parameter["provider"]] + ($parameter["routeName"] ? " · " + $parameter["routeName"] : "") }}`,
		description:
			'Sends email over SMTP or an email API with pooling, throttling, retries, failover and no double sends',
		defaults: { name: 'Load-Balanced Send' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
		],
		outputNames: ['Sent', 'Failed', 'Fallback', 'Skipped'],
		// written out, not generated: n8n's community lint reads each credential's name and testedBy
		// statically. For each provider ours and, where n8n has one, n8n's own; AWS keeps n8n's own
		// test (an STS call); SMTP and Redis are tested by this node, which reads both shapes.
		credentials: [
			{
				name: 'smtp',
				required: true,
				testedBy: 'postalSmtpTest',
				displayOptions: shownFor('smtp', 'n8n'),
			},
			{
				name: 'postalSmtp',
				required: true,
				testedBy: 'postalSmtpTest',
				displayOptions: shownFor('smtp', 'postalRoutes'),
			},
			{ name: 'sendGridApi', required: true, displayOptions: shownFor('sendgrid', 'n8n') },
			{
				name: 'postalSendGridApi',
				required: true,
				displayOptions: shownFor('sendgrid', 'postalRoutes'),
			},
			{ name: 'mailgunApi', required: true, displayOptions: shownFor('mailgun', 'n8n') },
			{
				name: 'postalMailgunApi',
				required: true,
				displayOptions: shownFor('mailgun', 'postalRoutes'),
			},
			{ name: 'postmarkApi', required: true, displayOptions: shownFor('postmark', 'n8n') },
			{
				name: 'postalPostmarkApi',
				required: true,
				displayOptions: shownFor('postmark', 'postalRoutes'),
			},
			{ name: 'postalSparkPostApi', required: true, displayOptions: shownFor('sparkpost') },
			{ name: 'aws', required: true, displayOptions: shownFor('ses', 'n8n') },
			{
				name: 'postalSesApi',
				required: true,
				testedBy: 'postalSesTest',
				displayOptions: shownFor('ses', 'postalRoutes'),
			},
			{ name: 'postalResendApi', required: true, displayOptions: shownFor('resend') },
			{ name: 'sendInBlueApi', required: true, displayOptions: shownFor('brevo', 'n8n') },
			{ name: 'postalBrevoApi', required: true, displayOptions: shownFor('brevo', 'postalRoutes') },
			{
				name: 'redis',
				required: true,
				testedBy: 'postalRedisConnectionTest',
				displayOptions: redisShownFor('n8n'),
			},
			{
				name: 'postalRedis',
				required: true,
				testedBy: 'postalRedisConnectionTest',
				displayOptions: redisShownFor('postalRoutes'),
			},
		],
		properties: sendProperties,
	};

	methods = {
		credentialTest: {
			[REDIS_TEST]: testRedisCredential,
			[SMTP_TEST]: testSmtp,
			[SES_TEST]: testSes,
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// a workflow saved before Operation existed has none: it sends
		if (this.getNodeParameter('operation', 0, 'send') === 'probe') return probeConnection(this);
		const items = this.getInputData();
		const node = this.getNode();
		const { provider, dryRun, options, groupLimits } = readSendParameters(this);

		const { transport, credentialLimit } = await connectionFor(this, provider, {
			poolSize: options.smtpPoolSize,
			allowUnauthorizedCerts: options.allowUnauthorizedCerts,
		});
		const settings: JobSettings = {
			limits: {
				provider,
				node: node.id || node.name,
				credential: credentialLimit,
				connection: {
					limit: options.rateLimit,
					per: options.rateLimitPer,
					burst: options.rateBurst,
				},
				campaignBurstSeconds: options.campaignBurstSeconds,
				groupLimits,
			},
			idempotency: options.idempotency,
			workflowId: String(this.getWorkflow().id ?? node.id),
			messageOptions: messageOptionsOf(this),
			// an envelope sender is SMTP's alone: an API route sets its own return path
			...(provider === 'smtp' && options.verpReturnPath ? { verp: options.verpReturnPath } : {}),
		};

		const params = new ParameterReader(this, items);
		const owner = runOwner(this);
		const outputs: INodeExecutionData[][] = [[], [], [], []];
		// a dry run puts every item it can build on Sent: that list is made at its full length (pushed
		// item by item, a list of 100,000 leaves ~2 MB of outgrown copies) and cut to what it holds
		const sent = dryRun ? new Array<INodeExecutionData>(items.length) : undefined;
		let sentCount = 0;
		const tally = new Tally();
		let state: NodeState | undefined;
		// A real send is one batch: every job is built, then deliverBatch runs them all (one circuit
		// leader per route, one look at the markers, concurrency across the whole batch). A dry run
		// sends nothing, so it goes in chunks: each chunk's jobs (messages, limits, keys: ~1.5 kB an
		// item) are gone before the next is built, instead of living until the last item is built.
		// Every record of the run still says one queuedAt (the clock is pinned for the chunks).
		const chunk = dryRun ? DRY_RUN_CHUNK : Math.max(1, items.length);
		const queuedAt = Date.now();
		for (let start = 0; start < items.length; start += chunk) {
			const end = Math.min(items.length, start + chunk);
			const results = new Array<DeliveryResult>(end - start);
			const jobs: DeliveryJob[] = [];
			for (let i = start; i < end; i++) {
				const built = await itemJob(this, params, items[i], i, settings);
				if (built.ok) jobs.push(built.job);
				else {
					const record: DeliveryRecord = {
						route: built.route,
						provider,
						status: 'failed',
						error: built.error,
						failureScope: 'recipient',
						attempts: 0,
						latencyMs: 0,
						queuedAt: new Date().toISOString(),
					};
					results[i - start] = { index: i, output: 'failed', record };
				}
			}

			if (jobs.length > 0) {
				state ??= await stateFor(this);
				if (!dryRun) await publishRouteLimits(state.store, jobs, settings);
				const {
					results: delivered,
					stateError,
					feedbackError,
					listQuality,
				} = await deliverBatch(jobs, {
					transport,
					store: state.store,
					...deliverySettings(options, owner),
					dryRun,
					...(dryRun ? { clock: () => queuedAt } : {}),
				});
				// an outage ends the run unless the user chose to go on: then every item says what happened
				if (stateError && !this.continueOnFail()) throw stoppedByState(node, stateError, delivered);
				if (feedbackError)
					this.addExecutionHints?.({
						message: `Feedback Tracking: the message ledger or the outcome counters could not be written (${feedbackError.message}). The messages went as their items say; bounces that quote only their Message-ID may not be tied back to their route.`,
						type: 'warning',
						location: 'outputPane',
					});
				for (const q of listQuality ?? [])
					this.addExecutionHints?.({
						message: `List quality of campaign "${q.campaign}" (${q.severity}): ${q.reason}.${q.pausedUntil ? ` The campaign is paused until ${q.pausedUntil}: its messages go to Fallback unsent (Postal Operations › Campaign › Resume lifts it).` : ' Clean the list (hard bounces and complaints are suppressed already); Pause Campaign on Bad List Quality would pause it at the critical bar.'}`,
						type: 'warning',
						location: 'outputPane',
					});
				for (const r of delivered) results[r.index - start] = r;
			}

			for (let k = 0; k < results.length; k++) {
				const i = start + k;
				const r = results[k];
				tally.add(r);
				const json = withField(items[i].json, 'postalDelivery', r.record as unknown as IDataObject);
				const out = { json, binary: items[i].binary, pairedItem: { item: i } };
				if (sent && r.output === 'sent') sent[sentCount++] = out;
				else outputs[OUTPUT[r.output]].push(out);
			}
		}
		if (sent) {
			sent.length = sentCount;
			outputs[OUTPUT.sent] = sent;
		}

		// set on the records already out: whether a call fell back is known once every call is made
		if (state?.usedFallback)
			for (const output of outputs)
				for (const item of output)
					(item.json.postalDelivery as IDataObject).stateFallback = LOCAL_STATE_MARK;
		const hint = dryRun ? undefined : tally.nothingDelivered();
		if (hint) this.addExecutionHints(hint);
		return outputs;
	}
}
