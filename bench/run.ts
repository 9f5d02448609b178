import { benchRedis } from './redis';
import { benchClassifier, benchPartitioner } from './routing';

const suites: Record<string, () => Promise<void>> = {
	classifier: benchClassifier,
	partitioner: benchPartitioner,
	redis: benchRedis,
};

async function main(): Promise<void> {
	const only = process.argv.slice(2);
	console.log(`# n8n-nodes-postal-routes benchmarks — node ${process.version}, ${new Date().toISOString()}`);
	for (const [name, suite] of Object.entries(suites)) if (only.length === 0 || only.includes(name)) await suite();
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
