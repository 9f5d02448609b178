import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { DomainClassifier, type Classification } from '../../lib/domains/classify';
import { GroupCatalog } from '../../lib/domains/groups';
import { MxResolver } from '../../lib/domains/mx';
import { StateUnavailableError } from '../../lib/state/types';
import { perItemValues, splitList } from '../shared/itemValues';
import {
	REDIS_TEST,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { classifierProperties, GROUP_LABELS } from './description';
import { readClassifierParameters } from './options';
import { classifierOutputs } from './outputs';

function classificationFields(c: Classification): IDataObject {
	const fields: IDataObject = {
		domainGroup: c.group,
		recipientDomain: c.address?.domain ?? null,
		recipient: c.address?.address ?? null,
		classifiedBy: c.classifiedBy,
	};
	if (c.reason) fields.invalidReason = c.reason;
	if (c.mxHosts) fields.mxHosts = c.mxHosts;
	return fields;
}

/** on items classified by an MX lookup while Redis was unreachable */
const LOCAL_MX_MARK = 'Redis was unreachable: the MX lookup used this process’s local cache';

export class DomainGroupClassifier implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Domain Group Classifier',
		name: 'domainGroupClassifier',
		icon: 'file:domainGroupClassifier.svg',
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ $parameter["outputMode"] === "perGroup" ? "One output per group" : "Add fields" }}',
		description:
			'Groups recipients by the mailbox provider that really receives their mail (Gmail, Microsoft, Yahoo, …)',
		defaults: { name: 'Domain Group Classifier' },
		inputs: ['main'],
		credentials: [
			{
				name: 'postalRedis',
				required: true,
				testedBy: 'postalRedisConnectionTest',
				displayOptions: { show: { stateStore: ['redis'] } },
			},
		],
		outputs: `={{(${classifierOutputs.toString()})($parameter, ${JSON.stringify(GROUP_LABELS)}).map(o => ({ type: 'main', displayName: o.displayName }))}}`,
		properties: classifierProperties,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const { outputMode, fieldKey, customGroups, options } = readClassifierParameters(this);
		const userGroups = customGroups.values.map((g, i) => {
			const name = String(g.name ?? '')
				.trim()
				.toLowerCase();
			if (!name)
				throw new NodeOperationError(this.getNode(), `Custom Groups: group ${i + 1} has no name`);
			return { name, domains: splitList(g.domains), mxPatterns: splitList(g.mxPatterns) };
		});

		const catalog = new GroupCatalog({ userGroups, includeGateways: options.includeGateways });
		const state = options.mxDetection ? await stateFor(this) : undefined;
		const mx = state
			? new MxResolver({
					servers: splitList(options.dnsServers),
					timeoutMs: options.mxTimeoutMs,
					concurrency: options.mxConcurrency,
					cacheTtlMs: options.mxCacheMinutes * 60_000,
					store: state.store,
				})
			: undefined;
		const classifier = new DomainClassifier(catalog, mx);
		let classifications: Classification[];
		try {
			classifications = await classifier.classifyMany(perItemValues(this, 'recipient', items));
		} catch (error) {
			if (error instanceof StateUnavailableError)
				throw new NodeOperationError(
					this.getNode(),
					stateUnavailableMessage(error, 'The MX cache lives there.'),
				);
			throw new NodeOperationError(this.getNode(), error as Error, {
				message: `Could not classify the recipients: ${(error as Error).message}`,
			});
		}

		// Redis was down and the user chose local state: MX answers came from this process's cache
		const stateFallback = state?.usedFallback ? LOCAL_MX_MARK : undefined;
		const withFields = (
			item: INodeExecutionData,
			i: number,
			c: Classification,
		): INodeExecutionData => {
			const fields: IDataObject = { ...classificationFields(c) };
			if (stateFallback && c.classifiedBy?.startsWith('mx')) fields.stateFallback = stateFallback;
			const json = fieldKey ? { ...item.json, [fieldKey]: fields } : { ...item.json, ...fields };
			return { json, binary: item.binary, pairedItem: { item: i } };
		};

		if (outputMode !== 'perGroup')
			return [items.map((item, i) => withFields(item, i, classifications[i]))];

		const slots = classifierOutputs(this.getNode().parameters, GROUP_LABELS);
		const outputs: INodeExecutionData[][] = slots.map(() => []);
		const slotOf = new Map(slots.map((s, k) => [s.key, k]));
		const otherSlot = slotOf.get('other')!;
		const invalidSlot = slotOf.get('invalid');
		items.forEach((item, i) => {
			const c = classifications[i];
			if (c.group === 'invalid' && invalidSlot === undefined) {
				const message = `Item ${i}: "${c.input ?? ''}" is not a valid email address — ${c.reason}`;
				if (!this.continueOnFail())
					throw new NodeOperationError(this.getNode(), message, {
						itemIndex: i,
						description:
							'Check the Recipient parameter, or turn on "Output Invalid Addresses Separately".',
					});
				outputs[otherSlot].push({
					json: { ...withFields(item, i, c).json, error: message },
					pairedItem: { item: i },
				});
				return;
			}
			const slot = c.group === 'invalid' ? invalidSlot! : (slotOf.get(c.group) ?? otherSlot);
			outputs[slot].push(withFields(item, i, c));
		});
		return outputs;
	}
}
