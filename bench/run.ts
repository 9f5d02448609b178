import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEngine } from './engine';
import { benchN8n } from './n8n';
import { benchRedis } from './redis';
import { benchRoundTrips } from './roundTrips';
import { benchSend } from './send';
import { benchThrottle } from './throttle';
import { benchClassifier, benchPartitioner } from './routing';

const suites: Record<string, () => Promise<void>> = {
	classifier: benchClassifier,
	partitioner: benchPartitioner,
	redis: benchRedis,
	roundtrips: benchRoundTrips,
	send: benchSend,
	n8n: benchN8n,
	engine: benchEngine,
	throttle: benchThrottle,
};

async function main(): Promise<void> {
	const only = process.argv.slice(2);
	// a fresh n8n folder: n8n-core's config and (with node:sqlite) the embedded state file go there
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'postal-routes-bench-'));
	console.log(
		`# n8n-nodes-postal-routes benchmarks — node ${process.version}, ${new Date().toISOString()}`,
	);
	for (const [name, suite] of Object.entries(suites))
		if (only.length === 0 || only.includes(name)) await suite();
	process.exit(0); // pooled sockets and Redis clients of the suites must not keep the process alive
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
