/**
 * A webhook trigger node behind a real HTTP server, answered the way n8n 2.40's webhook handler
 * (packages/cli webhooks/webhook-helpers executeWebhook) answers: the request's body read whole
 * into `rawBody` first (its rawBodyReader) and parsed for JSON / text, the node's `webhook()` run
 * in n8n-core's own WebhookContext, then: `noWebhookResponse` → the node answered itself;
 * no `workflowData` → 200 with `webhookResponse`; else 200 "Workflow was started" (responseMode
 * onReceived) and the items handed to the test as the execution's start data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookContext } from 'n8n-core';
import {
	Workflow,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type IWebhookData,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import { PACKAGE } from './engine';

export interface Delivery {
	status: number;
	body: string;
	/** the items the execution would start with; undefined: no execution */
	items?: INodeExecutionData[];
}

/** Express's response methods the trigger nodes use, over Node's own response. */
function expressLike(res: ServerResponse) {
	const r = res as ServerResponse & Record<string, unknown>;
	r.status = (code: number) => ((res.statusCode = code), r);
	r.type = (type: string) => (res.setHeader('content-type', type), r);
	r.send = (body: unknown) => {
		if (!res.writableEnded)
			res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
		return r;
	};
	const end = res.end.bind(res);
	// express's send() ends the response; the end() n8n's nodes call after it does nothing
	r.end = ((...args: Parameters<ServerResponse['end']>) =>
		res.writableEnded ? r : end(...args)) as never;
	return r;
}

async function readRequest(req: IncomingMessage) {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const rawBody = Buffer.concat(chunks);
	const type = String(req.headers['content-type'] ?? '').split(';')[0];
	const text = rawBody.toString('utf8');
	let body: unknown = {};
	if (type === 'application/json' && text) body = JSON.parse(text);
	else if (type === 'text/plain') body = text;
	const url = new URL(req.url ?? '/', 'http://localhost');
	return Object.assign(req, {
		rawBody,
		body,
		query: Object.fromEntries(url.searchParams),
		params: {},
		ip: req.socket.remoteAddress,
	});
}

export interface WebhookServer {
	url: string;
	/** POSTs `body` with `headers` and resolves with n8n's answer and the started items */
	post(body: string | Buffer, headers?: Record<string, string>): Promise<Delivery>;
	close(): Promise<void>;
}

/**
 * Serves `nodeType.webhook()` for one trigger node (`parameters`, a fixed webhook id) of a
 * one-node workflow, in webhook mode (a production URL).
 */
export async function serveTrigger(
	nodeType: INodeType,
	parameters: INode['parameters'],
	webhookId = 'feedback-hook-1',
	/** credential data by type, as n8n would decrypt it (the node gets a reference to each) */
	credentials: Record<string, IDataObject> = {},
): Promise<WebhookServer> {
	const node: INode = {
		id: 'trigger',
		name: 'Feedback',
		type: `${PACKAGE}.${nodeType.description.name}`,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		webhookId,
		credentials: Object.fromEntries(
			Object.keys(credentials).map((type) => [type, { id: `${type}-1`, name: type }]),
		),
	};
	// what n8n-core asks of the credentials helper for a runless credential (as test/helpers/engine.ts)
	const credentialsHelper = {
		getDecrypted: async (_a: unknown, _c: unknown, type: string) => {
			if (!credentials[type]) throw new Error(`the test gave no ${type} credential`);
			return credentials[type];
		},
		isCredentialUsableByNode: async () => true,
		getParentTypes: () => [],
		getCredentialsProperties: () => [],
	};
	const workflow = new Workflow({
		id: 'feedbackTriggerTest',
		name: 'feedback',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: {
			getByName: () => nodeType,
			getByNameAndVersion: () => nodeType,
			getKnownTypes: () => ({}),
		} as never,
		settings: {},
	});
	const started = new Map<ServerResponse, INodeExecutionData[]>();
	const server: Server = createServer((rawReq, rawRes) => {
		const res = expressLike(rawRes);
		void (async () => {
			const req = await readRequest(rawReq);
			const base = 'http://localhost:5678';
			const additionalData = {
				httpRequest: req,
				httpResponse: res,
				credentialsHelper,
				webhookBaseUrl: `${base}/webhook`,
				webhookTestBaseUrl: `${base}/webhook-test`,
				instanceBaseUrl: `${base}/`,
				variables: {},
			} as unknown as IWorkflowExecuteAdditionalData;
			const description = nodeType.description.webhooks![0];
			const webhookData: IWebhookData = {
				httpMethod: 'POST',
				node: node.name,
				path: `${webhookId}/${description.path}`,
				webhookDescription: description,
				workflowId: workflow.id,
				workflowExecuteAdditionalData: additionalData,
				webhookId,
			};
			const context = new WebhookContext(
				workflow,
				workflow.getNode(node.name)!,
				additionalData,
				'webhook',
				webhookData,
				[],
				null,
			);
			const result = await nodeType.webhook!.call(context);
			if (result.noWebhookResponse) return;
			if (result.workflowData === undefined) {
				res.statusCode = 200;
				res.end(
					String(result.webhookResponse ?? JSON.stringify({ message: 'Webhook call received' })),
				);
				return;
			}
			started.set(rawRes, result.workflowData[0] ?? []);
			res.statusCode = 200;
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify({ message: 'Workflow was started' }));
		})().catch((error: Error) => {
			// what n8n does with a node that throws: 500 and the error's message
			rawRes.statusCode = 500;
			rawRes.end(JSON.stringify({ code: 0, message: error.message }));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/${webhookId}/webhook`;
	return {
		url,
		async post(body, headers = {}) {
			const response = await fetch(url, { method: 'POST', body, headers });
			const text = await response.text();
			const items = [...started.entries()].pop();
			started.clear();
			return { status: response.status, body: text, items: items?.[1] };
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
