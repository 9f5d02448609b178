import {
	NodeConnectionTypes,
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
import { suppressionDetails } from '../../lib/delivery/records';
import { lookUpSuppressions } from '../../lib/delivery/suppressed';
import { StateUnavailableError, type StateStore } from '../../lib/state/types';
import { ParameterReader, splitList } from '../shared/itemValues';
import { copyJson, withField } from '../shared/json';
import {
	REDIS_TEST,
	redisCredentials,
	stateFor,
	stateUnavailableMessage,
	testRedisCredential,
} from '../shared/state';
import { classifierProperties, GROUP_LABELS } from './description';
import { readClassifierParameters } from './options';
import { classifierOutputs } from './outputs';

/**
 * The item's json with the classification: its own fields, then ours (under `fieldKey` when one is
 * set), set one by one on one copy (copyJson): the keys and order of `{ ...json, ...fields }`
 * without a fields object per item.
 */
function classifiedJson(
	source: IDataObject,
	fieldKey: string,
	c: Classification,
	stateFallback: string | undefined,
	domains: DomainTexts,
): IDataObject {
	const fields: IDataObject = fieldKey ? {} : copyJson(source);
	fields.domainGroup = c.group;
	fields.recipientDomain = c.address ? domains.shared(c.address.domain) : null;
	fields.recipient = c.address?.address ?? null;
	fields.classifiedBy = c.classifiedBy;
	if (c.reason) fields.invalidReason = c.reason;
	if (c.mxHosts) fields.mxHosts = c.mxHosts;
	if (stateFallback && c.classifiedBy?.startsWith('mx')) fields.stateFallback = stateFallback;
	return fieldKey ? withField(source, fieldKey, fields) : fields;
}

/**
 * One string per domain for a run's items: a batch names few domains many times, and each parse
 * makes its own copy (~32 bytes an item, kept in the run data). Up to LIMIT distinct domains.
 */
class DomainTexts {
	private static readonly LIMIT = 10_000;
	private readonly texts = new Map<string, string>();

	shared(domain: string): string {
		const known = this.texts.get(domain);
		if (known !== undefined) return known;
		if (this.texts.size < DomainTexts.LIMIT) this.texts.set(domain, domain);
		return domain;
	}
}

/** on items classified by an MX lookup while Redis was unreachable */
const LOCAL_MX_MARK = 'Redis was unreachable: the MX lookup used this process’s local cache';
/** on items checked against the suppression list while Redis was unreachable */
const LOCAL_SUPPRESSION_MARK =
	'Redis was unreachable: the suppression list was read from this process’s local state';

/**
 * The items on the suppression list, in one store call for the batch (lookUpSuppressions): per
 * item index, what the item shows as postalSuppressed. Items without an address are not asked.
 */
async function suppressedItems(
	store: StateStore,
	list: string,
	addresses: ReadonlyArray<string | undefined>,
): Promise<Map<number, IDataObject>> {
	const asked: number[] = [];
	addresses.forEach((a, i) => {
		if (a !== undefined) asked.push(i);
	});
	const entries = await lookUpSuppressions(
		store,
		list,
		asked.map((i) => addresses[i]!),
	);
	const found = new Map<number, IDataObject>();
	entries.forEach((entry, k) => {
		if (entry) found.set(asked[k], suppressionDetails(entry) as unknown as IDataObject);
	});
	return found;
}

export class DomainGroupClassifier implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Domain Group Classifier',
		name: 'domainGroupClassifier',
		icon: { light: 'file:domainGroupClassifier.svg', dark: 'file:domainGroupClassifier.dark.svg' },
		group: ['transform'],
		// 2: State Store Redis defaults to n8n's own Redis credential (version 1 nodes keep ours)
		version: [1, 2],
		defaultVersion: 2,
		usableAsTool: true,
		subtitle:
			'={{ $parameter["outputMode"] === "perGroup" ? "One output per group" : "Add fields" }}',
		description:
			'Groups recipients by the mailbox provider that really receives their mail (Gmail, Microsoft, Yahoo, …)',
		defaults: { name: 'Domain Group Classifier' },
		inputs: [NodeConnectionTypes.Main],
		credentials: redisCredentials,
		outputs: `={{(${classifierOutputs.toString()})($parameter, ${JSON.stringify(GROUP_LABELS)}).map(o => ({ type: 'main', displayName: o.displayName }))}}`,
		properties: classifierProperties,
	};

	methods = { credentialTest: { [REDIS_TEST]: testRedisCredential } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const p = readClassifierParameters(this);
		const { outputMode, fieldKey, customGroups, options } = p;
		const userGroups = customGroups.values.map((g, i) => {
			const name = String(g.name ?? '')
				.trim()
				.toLowerCase();
			if (!name)
				throw new NodeOperationError(this.getNode(), `Custom Groups: group ${i + 1} has no name`);
			return { name, domains: splitList(g.domains), mxPatterns: splitList(g.mxPatterns) };
		});

		const catalog = new GroupCatalog({ userGroups, includeGateways: options.includeGateways });
		const state = options.mxDetection || p.checkSuppression ? await stateFor(this) : undefined;
		const mx =
			options.mxDetection && state
				? new MxResolver({
						servers: splitList(options.dnsServers),
						timeoutMs: options.mxTimeoutMs,
						concurrency: options.mxConcurrency,
						cacheTtlMs: options.mxCacheMinutes * 60_000,
						store: state.store,
					})
				: undefined;
		const classifier = new DomainClassifier(catalog, mx);
		const reader = new ParameterReader(this, items);
		const notClassified = (error: Error) =>
			error instanceof StateUnavailableError
				? new NodeOperationError(
						this.getNode(),
						stateUnavailableMessage(error, 'The MX cache lives there.'),
					)
				: new NodeOperationError(this.getNode(), error, {
						message: `Could not classify the recipients: ${error.message}`,
					});
		// With MX detection the batch is classified at once (one lookup per unknown domain, after
		// every Recipient is read). Without, each item is classified as its json is made (in item
		// order, so a Recipient that cannot be read fails the node as before): no item's parse
		// outlives it, where a batch of them would last the whole node run.
		let batch: Classification[] | undefined;
		if (mx)
			try {
				batch = await classifier.classifyMany(items.map((_, i) => reader.get('recipient', i)));
			} catch (error) {
				throw notClassified(error as Error);
			}
		const classificationOf = (i: number): Classification => {
			if (batch) return batch[i];
			try {
				return classifier.classifyOne(reader.get('recipient', i));
			} catch (error) {
				throw notClassified(error as Error);
			}
		};

		const domains = new DomainTexts();
		// Redis was down and the user chose local state: MX answers came from this process's cache
		const stateFallback = state?.usedFallback ? LOCAL_MX_MARK : undefined;
		// with Check Suppression List: each item's address, for the batch's one look at the list
		const addresses = p.checkSuppression ? new Array<string | undefined>(items.length) : undefined;
		const suppressedOutput = p.checkSuppression && p.suppressedAction === 'output';
		/** flags the suppressed items' json; their indices */
		const flagSuppressed = async (jsons: ArrayLike<IDataObject>): Promise<Set<number>> => {
			if (!addresses || !state) return new Set();
			let found: Map<number, IDataObject>;
			try {
				found = await suppressedItems(state.store, p.suppressionList, addresses);
			} catch (error) {
				throw error instanceof StateUnavailableError
					? new NodeOperationError(
							this.getNode(),
							stateUnavailableMessage(error, 'The suppression list lives there.'),
						)
					: error;
			}
			const local = state.usedFallback;
			for (let i = 0; i < jsons.length; i++) {
				if (addresses[i] === undefined) continue;
				const fields = fieldKey ? (jsons[i][fieldKey] as IDataObject) : jsons[i];
				const details = found.get(i);
				if (details) fields.postalSuppressed = details;
				if (local) fields.stateFallback ??= LOCAL_SUPPRESSION_MARK;
			}
			return new Set(found.keys());
		};

		if (outputMode !== 'perGroup') {
			const output = new Array<INodeExecutionData>(items.length);
			for (let i = 0; i < items.length; i++) {
				const item = items[i];
				const c = classificationOf(i);
				const json = classifiedJson(item.json, fieldKey, c, stateFallback, domains);
				if (addresses) addresses[i] = c.address?.address;
				output[i] = { json, binary: item.binary, pairedItem: { item: i } };
			}
			if (!addresses) return [output];
			const suppressed = await flagSuppressed(output.map((o) => o.json));
			if (!suppressedOutput) return [output];
			return [
				output.filter((_, i) => !suppressed.has(i)),
				output.filter((_, i) => suppressed.has(i)),
			];
		}

		// every item classified first, then sorted onto the outputs: an invalid address fails the
		// node only once every Recipient has been read, as before. What is kept between the two
		// passes is each item's json (its output) and group; the rest of a classification only for
		// an invalid address, whose error names it.
		const jsons = new Array<IDataObject>(items.length);
		const groups = new Array<string>(items.length);
		const invalid = new Map<number, Classification>();
		for (let i = 0; i < items.length; i++) {
			const c = classificationOf(i);
			jsons[i] = classifiedJson(items[i].json, fieldKey, c, stateFallback, domains);
			groups[i] = c.group;
			if (addresses) addresses[i] = c.address?.address;
			if (c.group === 'invalid') invalid.set(i, c);
		}
		batch = undefined;
		const suppressed = await flagSuppressed(jsons);

		const slots = classifierOutputs(this.getNode().parameters, GROUP_LABELS);
		const outputs: INodeExecutionData[][] = slots.map(() => []);
		const slotOf = new Map(slots.map((s, k) => [s.key, k]));
		const otherSlot = slotOf.get('other')!;
		const invalidSlot = slotOf.get('invalid');
		const suppressedSlot = suppressedOutput ? slots.length - 1 : undefined;
		for (let i = 0; i < items.length; i++) {
			const group = groups[i];
			if (group === 'invalid' && invalidSlot === undefined) {
				const c = invalid.get(i)!;
				// the item's index is n8n's to show: its error view adds "[item i]" from itemIndex
				const message = `Recipient: "${c.input ?? ''}" is not a valid email address — ${c.reason}`;
				if (!this.continueOnFail())
					throw new NodeOperationError(this.getNode(), message, {
						itemIndex: i,
						description:
							'Check the Recipient parameter, or turn on "Output Invalid Addresses Separately".',
					});
				outputs[otherSlot].push({
					json: withField(jsons[i], 'error', message),
					pairedItem: { item: i },
				});
				continue;
			}
			const slot =
				suppressedSlot !== undefined && suppressed.has(i)
					? suppressedSlot
					: group === 'invalid'
						? invalidSlot!
						: (slotOf.get(group) ?? otherSlot);
			outputs[slot].push({ json: jsons[i], binary: items[i].binary, pairedItem: { item: i } });
		}
		return outputs;
	}
}
