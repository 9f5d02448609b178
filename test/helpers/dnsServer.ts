import DNS from 'dns2';

const { Packet } = DNS;

/** How the test server answers for one domain. */
export type Zone =
	| { mx: Array<{ exchange: string; priority: number }> }
	| 'nxdomain' // rcode 3
	| 'nodata' // NOERROR, no answers
	| 'null-mx' // RFC 7505: a single MX "." with priority 0
	| 'silent' // never answers: the client times out
	| 'servfail'; // rcode 2

export interface DnsServerOptions {
	/** delay every answer by this long, so queries overlap (for concurrency tests) */
	delayMs?: number;
}

export interface TestDnsServer {
	/** `127.0.0.1:<port>`, ready for `MxResolver({ servers: [address] })` */
	address: string;
	/** queries received so far */
	readonly queries: number;
	/** query names received so far, in order (for readable failures) */
	readonly names: readonly string[];
	/** the most queries received but not yet answered at the same time */
	readonly maxInFlight: number;
	close(): Promise<void>;
}

/** A real DNS server on loopback UDP (free port), answering from `zones`; unknown names → NXDOMAIN. */
export async function startDnsServer(
	zones: Record<string, Zone>,
	options: DnsServerOptions = {},
): Promise<TestDnsServer> {
	const names: string[] = [];
	const timers = new Set<NodeJS.Timeout>();
	let inFlight = 0;
	let maxInFlight = 0;

	const server = DNS.createUDPServer((request, send) => {
		const question = request.questions[0];
		const name = (question?.name ?? '').toLowerCase();
		names.push(name);
		const zone: Zone = zones[name] ?? 'nxdomain';
		if (zone === 'silent') return;

		const response = Packet.createResponseFromRequest(request);
		response.header.aa = 1;
		if (zone === 'nxdomain') response.header.rcode = Packet.RCODE.NXDOMAIN;
		else if (zone === 'servfail') response.header.rcode = Packet.RCODE.SERVFAIL;
		else if (zone !== 'nodata' && question?.type === Packet.TYPE.MX) {
			const records = zone === 'null-mx' ? [{ exchange: '', priority: 0 }] : zone.mx;
			for (const r of records) {
				// ttl 0: c-ares (Node's resolver) has its own query cache; keep it out of cache tests
				response.answers.push({
					name: question.name,
					type: Packet.TYPE.MX,
					class: Packet.CLASS.IN,
					ttl: 0,
					...r,
				} as DNS.Packet.Resource);
			}
		}

		inFlight++;
		maxInFlight = Math.max(maxInFlight, inFlight);
		const answer = () => {
			inFlight--;
			// the client may be gone (test over): a failed send is not the test's concern
			send(response).catch(() => undefined);
		};
		if (!options.delayMs) return answer();
		const timer = setTimeout(() => {
			timers.delete(timer);
			answer();
		}, options.delayMs);
		timers.add(timer);
	});

	await server.listen(0, '127.0.0.1'); // port 0: the OS picks a free port
	const { port } = server.address();

	return {
		address: `127.0.0.1:${port}`,
		get queries() {
			return names.length;
		},
		names,
		get maxInFlight() {
			return maxInFlight;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const t of timers) clearTimeout(t);
				timers.clear();
				server.close(() => resolve());
			}),
	};
}
