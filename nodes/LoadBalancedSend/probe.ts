import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import { z } from 'zod';
import { probeRoute } from '../../lib/delivery/probe';
import { StateUnavailableError } from '../../lib/state/types';
import { isProbeable } from '../../lib/transports/probe';
import { booleanField, numberField, parseParameters } from '../shared/parameters';
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
			probeEverySeconds: numberField(P, 'probeOptions.probeEverySeconds'),
			timeoutSeconds: numberField(P, 'probeOptions.timeoutSeconds'),
			updateCircuit: booleanField(P, 'probeOptions.updateCircuit'),
			allowUnauthorizedCerts: booleanField(P, 'probeOptions.allowUnauthorizedCerts'),
		})
		.default({}),
});

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
			probeEveryMs: o.probeEverySeconds * 1000,
			updateCircuit: o.updateCircuit,
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
	const { circuit, ...result } = probe;
	const json: IDataObject = {
		route,
		provider,
		campaignId,
		...(result as unknown as IDataObject),
		circuit: {
			open: circuit.open,
			...(circuit.openUntil !== undefined
				? { openUntil: new Date(circuit.openUntil).toISOString() }
				: {}),
		},
		probedAt: new Date().toISOString(),
		...(state.usedFallback
			? { stateFallback: 'Redis was unreachable: the circuit updated is this process’s local one' }
			: {}),
	};
	const item: INodeExecutionData = { json, pairedItem: { item: 0 } };
	return result.ok ? [[item], [], [], []] : [[], [item], [], []];
}
