import { DEFAULT_RULES } from '../../lib/reputation/rules';
import { NodeOperationError, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { classifierProperties } from '../../nodes/DomainGroupClassifier/description';
import { classifierParametersSchema } from '../../nodes/DomainGroupClassifier/options';
import { sendProperties } from '../../nodes/LoadBalancedSend/description';
import { deliverySettings, sendParametersSchema } from '../../nodes/LoadBalancedSend/options';
import { partitionerProperties } from '../../nodes/RoutePartitioner/description';
import { partitionerOptionsSchema, ROUTE_DEFAULTS } from '../../nodes/RoutePartitioner/options';
import {
	choiceField,
	numberDefault,
	parseParameters,
	propertyAt,
} from '../../nodes/shared/parameters';

const ctx = {
	getNode: () => ({
		id: 'n',
		name: 'Node',
		type: 't',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	}),
} as unknown as IExecuteFunctions;
const errorOf = (
	properties: INodeProperties[],
	schema: Parameters<typeof parseParameters>[2],
	value: unknown,
): string => {
	try {
		parseParameters(ctx, properties, schema, value);
	} catch (error) {
		expect(error).toBeInstanceOf(NodeOperationError);
		return (error as Error).message;
	}
	throw new Error('expected an error');
};

describe('node options: each default read from the node description', () => {
	it('Load-Balanced Send: the defaults it always had', () => {
		const { dryRun, groupLimits, options } = sendParametersSchema.parse({});
		expect(dryRun).toBe(false);
		expect(groupLimits.values).toEqual([]);
		expect(options).toEqual({
			concurrency: 20,
			maxAttempts: 3,
			retryBaseMs: 1000,
			retryMaxMs: 30_000,
			rateLimit: 0,
			rateLimitPer: 'second',
			rateBurst: 0,
			campaignBurstSeconds: 60,
			maxRateWaitSeconds: 300,
			failureThreshold: 5,
			ejectionSeconds: 30,
			maxEjectionSeconds: 600,
			duplicateWindowDays: 90,
			idempotency: true,
			inDoubt: 'resend',
			leaseSeconds: 600,
			// for n8n's own SMTP credential: our credential's defaults
			smtpPoolSize: 5,
			allowUnauthorizedCerts: false,
			// the feedback loop's (suppression list, message reference, ledger)
			skipSuppressed: true,
			suppressionList: '',
			feedbackTracking: true,
			ledgerDays: 14,
			routeReputation: true,
			reputationRules: [...DEFAULT_RULES],
			pauseCampaign: false,
			campaignPauseHours: 24,
		});
		expect(deliverySettings(options, 'execution 7 · Send')).toEqual({
			concurrency: 20,
			retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 },
			health: {
				failureThreshold: 5,
				baseEjectionMs: 30_000,
				maxEjectionMs: 600_000,
				backoff: 2,
				jitterRatio: 0.1,
			},
			duplicates: {
				ttlMs: 90 * 86_400_000,
				leaseMs: 600_000,
				resendInDoubt: true,
				owner: 'execution 7 · Send',
			},
			maxRateWaitMs: 300_000,
			reputation: { rules: [...DEFAULT_RULES] },
			suppression: { list: '' },
			feedback: { ledgerTtlMs: 14 * 86_400_000 },
		});
	});

	it('Load-Balanced Send: group limits without a group or messages limit nothing; an unset unit is per hour', () => {
		const { groupLimits } = sendParametersSchema.parse({
			groupLimits: {
				values: [
					{ group: ' Yahoo ', messages: 600 },
					{ group: '', messages: 5, per: 'second' },
					{ group: 'aol', messages: 0 },
					{ group: 'gmx', messages: 10, per: 'minute' },
				],
			},
		});
		expect(groupLimits.values).toEqual([
			{ group: 'yahoo', limit: 600, per: 'hour' },
			{ group: 'gmx', limit: 10, per: 'minute' },
		]);
	});

	it('Load-Balanced Send: an emptied field is its default; a value the field does not allow names the option', () => {
		expect(
			sendParametersSchema.parse({ options: { concurrency: null, maxAttempts: '' } }).options,
		).toMatchObject({ concurrency: 20, maxAttempts: 3 });
		expect(errorOf(sendProperties, sendParametersSchema, { options: { concurrency: 0 } })).toBe(
			'Options › Parallel Sends: Number must be greater than or equal to 1',
		);
		expect(
			errorOf(sendProperties, sendParametersSchema, { options: { maxAttempts: 'three' } }),
		).toBe('Options › Attempts: Expected number, received string');
		expect(
			errorOf(sendProperties, sendParametersSchema, { options: { rateLimitPer: 'week' } }),
		).toMatch(/^Options › Connection Rate Per: Invalid enum value/);
		expect(
			errorOf(sendProperties, sendParametersSchema, {
				groupLimits: {
					values: [
						{ group: 'a', messages: 1 },
						{ group: 'b', messages: 1, per: 'fortnight' },
					],
				},
			}),
		).toMatch(/^Domain Group Limits › Per \(entry 2\): Invalid enum value/);
	});

	it('Domain Group Classifier: the defaults it always had, and its checks', () => {
		expect(classifierParametersSchema.parse({})).toEqual({
			fieldKey: '',
			// Check Suppression List: off; the default list; flag only
			checkSuppression: false,
			suppressionList: '',
			suppressedAction: 'flag',
			customGroups: { values: [] },
			options: {
				mxDetection: false,
				dnsServers: '',
				mxTimeoutMs: 3000,
				mxConcurrency: 16,
				mxCacheMinutes: 360,
				includeGateways: false,
			},
		});
		expect(classifierParametersSchema.parse({ fieldKey: '  classification ' }).fieldKey).toBe(
			'classification',
		);
		expect(
			errorOf(classifierProperties, classifierParametersSchema, { options: { mxTimeoutMs: 50 } }),
		).toBe('Options › MX Timeout (Ms): Number must be greater than or equal to 100');
		expect(
			errorOf(classifierProperties, classifierParametersSchema, {
				options: { mxConcurrency: 2.5 },
			}),
		).toBe('Options › MX Lookups at Once: Expected integer, received float');
	});

	it('Route Partitioner: the defaults it always had; plan values pass on unchecked for parseRoutePlan', () => {
		expect(partitionerOptionsSchema.parse({})).toEqual({
			fieldKey: 'postalRoute',
			campaignRate: 0,
			campaignRatePer: 'hour',
			dayStart: '00:00',
			stateTtlDays: 30,
			timeZone: '',
			capacity: 'exact',
		});
		// a value the option does not offer names the option
		expect(() => partitionerOptionsSchema.parse({ capacity: 'spread' })).toThrow();
		expect(
			partitionerOptionsSchema.parse({ fieldKey: '', dayStart: '', stateTtlDays: '' }),
		).toMatchObject({ fieldKey: 'postalRoute', dayStart: '00:00', stateTtlDays: 30 });
		expect(
			partitionerOptionsSchema.parse({
				stateTtlDays: -1,
				campaignRate: 'lots',
				campaignRatePer: 'week',
			}),
		).toMatchObject({ stateTtlDays: -1, campaignRate: NaN, campaignRatePer: 'week' });
		expect(ROUTE_DEFAULTS).toEqual({
			enabled: true,
			weight: 1,
			warmup: 'none',
			warmupStartCap: 50,
			warmupGrowth: 1.5,
			warmupStartPercent: 10,
			warmupDays: 14,
		});
	});
});

describe('reading a description', () => {
	it('finds top-level, collection and fixedCollection properties', () => {
		expect(propertyAt(sendProperties, 'provider').default).toBe('smtp');
		expect(numberDefault(sendProperties, 'options.concurrency')).toBe(20);
		expect(numberDefault(sendProperties, 'groupLimits.values.messages')).toBe(600);
		expect(numberDefault(partitionerProperties, 'options.stateTtlDays')).toBe(30);
	});

	it('refuses a path the description does not have, or a default of another type, when the module loads', () => {
		expect(() => propertyAt(sendProperties, 'options.concurency')).toThrow(
			'the node description has no property "options.concurency"',
		);
		expect(() => propertyAt(sendProperties, 'groupLimits.values')).toThrow(/no property/);
		expect(() => propertyAt(sendProperties, 'from.x')).toThrow(/holds no properties/);
		expect(() => numberDefault(sendProperties, 'options.rateLimitPer')).toThrow(
			'the default of "options.rateLimitPer" is not a number',
		);
	});

	it('ties a choice to the values the description offers', () => {
		expect(() =>
			choiceField(sendProperties, 'options.rateLimitPer', ['second', 'minute', 'hour']),
		).toThrow(/offers day, hour, minute, second/);
	});
});
