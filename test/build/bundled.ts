import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INodeType } from 'n8n-workflow';

/** The node classes from the BUNDLED files in dist/, by node name, as n8n loads them. */
export function bundledNodeTypes(): Record<string, INodeType> {
	const root = join(__dirname, '..', '..');
	const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
		n8n: { nodes: string[] };
	};
	const ours: Record<string, INodeType> = {};
	for (const file of pkg.n8n.nodes) {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const exported = require(join(root, file)) as Record<string, new () => INodeType>;
		const type = new (Object.values(exported)[0])();
		ours[type.description.name] = type;
	}
	return ours;
}
