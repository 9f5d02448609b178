import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import { z } from 'zod';
import { parseAddress } from '../../lib/domains/address';
import { probeRoute } from '../../lib/delivery/probe';
import { StateUnavailableError } from '../../lib/state/types';
import { isProbeable } from '../../lib/transports/probe';
import { booleanField, numberField, parseParameters, stringField } from '../shared/parameters';
import { stateFor, stateUnavailableMessage } from '../shared/state';
import { sendProperties as P } from './description';
import { connectionFor } from './transport';

/** The probe's parameters (item 0: the probe runs once per execution). */
export const probeParametersSchema = z.object({
	routeName: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().default('')),
	campaignId: z.preprocess(
		(v) => (typeof v === 'string' ? v.trim() : v),
		z
			.string({ message: 'must be text' })
			.min(
				1,
				'is empty: give the Route Partitioner’s Campaign ID, or put back the default {{ $workflow.id }}',
			),
	),
	probeOptions: z
		.object({
			fall: numberField(P, 'probeOptions.fall', { int: true }),
			rise: numberField(P, 'probeOptions.rise', { int: true }),
			probeEverySeconds: numberField(P, 'probeOptions.probeEverySeconds'),
			timeoutSeconds: numberField(P, 'probeOptions.timeoutSeconds'),
			updateCircuit: booleanField(P, 'probeOptions.updateCircuit'),
			skipIfSentWithinMinutes: numberField(P, 'probeOptions.skipIfSentWithinMinutes'),
			seedAddress: mailboxField('probeOptions.seedAddress'),
			seedSender: mailboxField('probeOptions.seedSender'),
			allowUnauthorizedCerts: booleanField(P, 'probeOptions.allowUnauthorizedCerts'),
		})
		.default({}),
});

/** One mailbox (the package's one address parser) as it goes into the envelope, or '' when empty. */
function mailboxField(path: string) {
	return stringField(P, path).transform((v, ctx) => {
		if (v.trim() === '') return '';
		const parsed = parseAddress(v);
		if (parsed.ok) return parsed.address;
		ctx.addIssue({
			code: z.ZodIssueCode.custom,
			message: `"${parsed.input}" is not one email address: ${parsed.reason}`,
		});
		return z.NEVER;
	});
}

/**
 * Probe Connection: one probe of the node's route with its own credential, its outcome in the
 * route's circuit (lib/delivery/probe.ts), one item out: on Sent when it passed, on Failed when not.
 */
export async function probeConnection(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const node = ctx.getNode();
	const {
		routeName,
		campaignId,
		probeOptions: o,
	} = parseParameters(ctx, P, probeParametersSchema, {
		routeName: ctx.getNodeParameter('routeName', 0, ''),
		campaignId: ctx.getNodeParameter('campaignId', 0, ''),
		probeOptions: ctx.getNodeParameter('probeOptions', 0, {}),
	});
	const route = routeName || node.name;
	const provider = String(ctx.getNodeParameter('provider', 0));
	// one connection of its own: the pool size is not used, the certificate rule is
	const { transport } = await connectionFor(ctx, provider, {
		poolSize: 1,
		allowUnauthorizedCerts: o.allowUnauthorizedCerts,
	});
	if (!isProbeable(transport))
		throw new NodeOperationError(node, `Provider: "${provider}" cannot be probed`);
	const state = await stateFor(ctx);
	let probe;
	try {
		probe = await probeRoute(transport, state.store, {
			campaign: campaignId,
			route,
			timeoutMs: o.timeoutSeconds * 1000,
			fall: o.fall,
			rise: o.rise,
			probeEveryMs: o.probeEverySeconds * 1000,
			updateCircuit: o.updateCircuit,
			skipIfSentWithinMs: o.skipIfSentWithinMinutes * 60_000,
			// the envelope probe is SMTP's: the option is shown for SMTP only, and ignored elsewhere
			...(o.seedAddress && provider === 'smtp'
				? { probe: { envelope: { from: o.seedSender, to: o.seedAddress } } }
				: {}),
		});
	} catch (error) {
		if (!(error instanceof StateUnavailableError))
			throw new NodeOperationError(node, error as Error);
		throw new NodeOperationError(
			node,
			stateUnavailableMessage(
				error,
				'The probe’s outcome could not be recorded in the route’s circuit; run it again once the state store is back.',
			),
		);
	}
	const stateFallback = state.usedFallback
		? { stateFallback: 'Redis was unreachable: the circuit updated is this process’s local one' }
		: {};
	const circuitJson = (c: typeof probe.circuit): IDataObject => ({
		open: c.open,
		...(c.openUntil !== undefined ? { openUntil: new Date(c.openUntil).toISOString() } : {}),
		...(c.passes !== undefined ? { passes: c.passes, rise: o.rise } : {}),
	});
	if (probe.skipped) {
		const json: IDataObject = {
			route,
			provider,
			campaignId,
			skipped: true,
			reason: probe.reason,
			sentRecently: probe.sent,
			circuit: circuitJson(probe.circuit),
			checkedAt: new Date().toISOString(),
			...stateFallback,
		};
		return [[], [], [], [{ json, pairedItem: { item: 0 } }]];
	}
	const { circuit, alerts, alertError, skipped: _skipped, ...result } = probe;
	const json: IDataObject = {
		route,
		provider,
		campaignId,
		...(result as unknown as IDataObject),
		circuit: circuitJson(circuit),
		...(alerts.length ? { alerts: alerts.map((a) => a.type) } : {}),
		...(alertError
			? { alertError: `the probe’s alerts could not be published: ${alertError.message}` }
			: {}),
		probedAt: new Date().toISOString(),
		...stateFallback,
	};
	const hints = [result.warning, json.alertError].filter((t): t is string => Boolean(t));
	if (hints.length)
		ctx.addExecutionHints?.(
			...hints.map((message) => ({
				message,
				type: 'warning' as const,
				location: 'outputPane' as const,
			})),
		);
	const item: INodeExecutionData = { json, pairedItem: { item: 0 } };
	return result.ok ? [[item], [], [], []] : [[], [item], [], []];
}
